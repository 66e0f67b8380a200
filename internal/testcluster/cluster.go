package testcluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Default superuser credentials of a fresh Cassandra node.
const (
	DefaultUsername = "cassandra"
	DefaultPassword = "cassandra"
)

// DefaultDC and DefaultRack are the location of a node whose NodeSpec leaves
// them empty.
const (
	DefaultDC   = "datacenter1"
	DefaultRack = "rack1"
)

// ServerTLS is the TLS material of the nodes' native (CQL) port.
type ServerTLS struct {
	// CertChainPEM is the server certificate followed by any intermediates.
	// Its SANs must cover every node address the clients dial.
	CertChainPEM []byte
	// KeyPEM is the server's unencrypted PKCS#8 private key
	// ("BEGIN PRIVATE KEY"); Cassandra rejects PKCS#1 and SEC1 keys.
	KeyPEM []byte
	// TrustPEM holds the CA certificates whose client certificates the
	// nodes accept.
	TrustPEM []byte
}

// NodeSpec describes one node to start.
type NodeSpec struct {
	// Address is the loopback address the node listens on. Empty means
	// 127.0.0.1 for the first node, 127.0.0.2 for the second, and so on.
	Address string
	// DC and Rack place the node (GossipingPropertyFileSnitch). Empty means
	// DefaultDC and DefaultRack.
	DC, Rack string
}

// Config describes a cluster to start. Only LibDir, TLS and ClientTLS are
// required; every zero value has a documented default.
type Config struct {
	// LibDir is the directory holding cassandra-all and its runtime
	// dependencies, as written by scripts/fetch-cassandra.sh.
	LibDir string
	// Java is the JVM to run. Empty means DefaultJava.
	Java string
	// ClusterName is Cassandra's cluster_name. Empty means a random
	// "scbtest-…" name.
	ClusterName string
	// Nodes lists the nodes to start, one after the other. Empty means one
	// node on 127.0.0.1 in DefaultDC. The first node is the seed; every
	// node has one token and joins without bootstrapping.
	Nodes []NodeSpec
	// Heap is the -Xms/-Xmx value of each node. Empty means DefaultHeap.
	Heap string
	// TLS is the server side of the native port.
	TLS ServerTLS
	// ClientTLS is used to probe readiness: it must hold a client
	// certificate the nodes accept and RootCAs that verify the nodes'
	// certificate. ServerName is set per node.
	ClientTLS *tls.Config
	// Username and Password log in the readiness probe. Empty means
	// DefaultUsername and DefaultPassword.
	Username, Password string
	// BaseDir is the parent of the cluster's work directory. Empty means
	// os.TempDir().
	BaseDir string
	// StartTimeout bounds the start of each node. Zero means 3 minutes.
	StartTimeout time.Duration
	// Detached lets the nodes outlive the calling process, as the shared
	// cluster of scb-testcluster must. By default each node gets SIGKILL
	// when the process that started it dies (Linux parent-death signal), so
	// a test binary killed by a timeout leaves no JVM behind.
	Detached bool
	// KeepWorkDir leaves the work directory (data, configuration and logs)
	// in place after Stop and after a failed start, for debugging.
	KeepWorkDir bool
	// Logger receives progress messages. Nil means no logging.
	Logger *slog.Logger
}

// Cluster is a running test cluster.
type Cluster struct {
	// Name is Cassandra's cluster_name.
	Name string
	// Dir is the cluster's work directory; each node has a subdirectory.
	Dir string
	// Nodes are the running nodes, in start order.
	Nodes []*Node
	// Username and Password are the superuser credentials.
	Username, Password string
	// CA issues client certificates the nodes accept (and, for clusters
	// started by this package, issued the server certificate). Start leaves
	// it nil; the caller that made the certificates sets it. Nil for an
	// external cluster whose CA key is unknown.
	CA *CA
	// ServerRoots verifies the nodes' server certificate.
	ServerRoots *x509.CertPool
	// External is true for a cluster this package did not start (see
	// FromEnv): it cannot be stopped or have its certificates reloaded.
	External bool

	libDir, java string
	keepDir      bool
	logger       *slog.Logger
}

// Node is one running Cassandra process.
type Node struct {
	// Address is the node's loopback IP address.
	Address string
	// NativePort is the TLS-only CQL port.
	NativePort int
	// StoragePort is the internode port.
	StoragePort int
	// JMXPort is the local-only JMX port nodetool talks to.
	JMXPort int
	// DC and Rack are the node's location.
	DC, Rack string
	// PID is the JVM's process id; it leads its own process group.
	PID int

	files nodeFiles
	// done is closed when the process has exited; nil for a node attached
	// from a state file, which is watched through /proc instead.
	done    chan struct{}
	waitErr error
}

// HostPort returns the node's CQL endpoint, "address:port".
func (n *Node) HostPort() string {
	return net.JoinHostPort(n.Address, strconv.Itoa(n.NativePort))
}

// Dir returns the node's work directory.
func (n *Node) Dir() string { return n.files.Dir }

// LogPath returns the file holding Cassandra's stdout and stderr.
func (n *Node) LogPath() string { return n.files.Log }

// KeystorePath returns the PEM file (PKCS#8 key + certificate chain) the
// node serves on its native port.
func (n *Node) KeystorePath() string { return n.files.Keystore }

// TruststorePath returns the PEM file of CA certificates the node accepts
// for client certificates.
func (n *Node) TruststorePath() string { return n.files.Truststore }

// Hosts returns the CQL endpoints of all nodes.
func (c *Cluster) Hosts() []string {
	hs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		hs[i] = n.HostPort()
	}
	return hs
}

// Start starts the cluster described by cfg, one node after the other, and
// returns when every node accepts a TLS + password login. On failure
// everything started is stopped and the error holds the tail of the failing
// node's log. If ports turn out to be taken, Start retries with new ones.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := checkLibDir(cfg.LibDir); err != nil {
		return nil, err
	}
	if cfg.Java == "" {
		cfg.Java = DefaultJava
	}
	if err := checkJava(cfg.Java); err != nil {
		return nil, err
	}
	if len(cfg.TLS.CertChainPEM) == 0 || len(cfg.TLS.KeyPEM) == 0 || len(cfg.TLS.TrustPEM) == 0 {
		return nil, errors.New("config: TLS needs CertChainPEM, KeyPEM and TrustPEM")
	}
	if !strings.Contains(string(cfg.TLS.KeyPEM), "BEGIN PRIVATE KEY") {
		return nil, errors.New("config: TLS.KeyPEM must be an unencrypted PKCS#8 \"PRIVATE KEY\" block")
	}
	if cfg.ClientTLS == nil || len(cfg.ClientTLS.Certificates) == 0 && cfg.ClientTLS.GetClientCertificate == nil {
		return nil, errors.New("config: ClientTLS needs a client certificate for the readiness probe")
	}
	if cfg.Heap == "" {
		cfg.Heap = DefaultHeap
	}
	if cfg.Username == "" {
		cfg.Username, cfg.Password = DefaultUsername, DefaultPassword
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 3 * time.Minute
	}
	if cfg.ClusterName == "" {
		cfg.ClusterName = "scbtest-" + randomHex(4)
	}
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []NodeSpec{{}}
	}
	specs := make([]NodeSpec, len(cfg.Nodes))
	for i, s := range cfg.Nodes {
		if s.Address == "" {
			s.Address = fmt.Sprintf("127.0.0.%d", i+1)
		}
		ip := net.ParseIP(s.Address)
		if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			return nil, fmt.Errorf("config: node %d address %q is not an IPv4 loopback address", i+1, s.Address)
		}
		if s.DC == "" {
			s.DC = DefaultDC
		}
		if s.Rack == "" {
			s.Rack = DefaultRack
		}
		specs[i] = s
	}
	for i := range specs {
		for j := i + 1; j < len(specs); j++ {
			if specs[i].Address == specs[j].Address {
				return nil, fmt.Errorf("config: nodes %d and %d share address %s", i+1, j+1, specs[i].Address)
			}
		}
	}
	cfg.Nodes = specs

	const attempts = 3
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		var c *Cluster
		c, err = startOnce(ctx, cfg)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			break
		}
		logf(cfg.Logger, "port taken, retrying with new ports", "attempt", attempt)
	}
	return nil, err
}

// errPortInUse marks a start that failed because a picked port was taken.
var errPortInUse = errors.New("port already in use")

func startOnce(ctx context.Context, cfg Config) (*Cluster, error) {
	base := cfg.BaseDir
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, cfg.ClusterName+"-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	c := &Cluster{
		Name: cfg.ClusterName, Dir: dir,
		Username: cfg.Username, Password: cfg.Password,
		libDir: cfg.LibDir, java: cfg.Java, keepDir: cfg.KeepWorkDir, logger: cfg.Logger,
	}
	addrs := make([]string, len(cfg.Nodes))
	for i, s := range cfg.Nodes {
		addrs[i] = s.Address
	}
	// Native and storage ports are shared by all nodes (distinct
	// addresses); JMX always binds 127.0.0.1, so each node needs its own.
	ports, err := freePorts(addrs, 2+len(cfg.Nodes))
	if err != nil {
		c.cleanup()
		return nil, err
	}
	// The first node is the only seed: a node waits for a reachable seed
	// (up to 30 s) unless it is the only seed in its own list.
	seeds := addrs[0]
	for i, s := range cfg.Nodes {
		n := &Node{
			Address: s.Address, DC: s.DC, Rack: s.Rack,
			NativePort: ports[0], StoragePort: ports[1], JMXPort: ports[2+i],
			files: newNodeFiles(filepath.Join(dir, fmt.Sprintf("node%d", i+1))),
		}
		p := yamlParams{
			ClusterName:  cfg.ClusterName,
			InitialToken: initialToken(i, len(cfg.Nodes)),
			Address:      s.Address,
			Seeds:        seeds,
			StoragePort:  n.StoragePort,
			NativePort:   n.NativePort,
			Dir:          n.files.Dir,
			Keystore:     n.files.Keystore,
			Truststore:   n.files.Truststore,
		}
		if err := writeNodeConfig(n.files, p, s.DC, s.Rack, cfg.TLS); err != nil {
			c.cleanup()
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(n.files.Dir, "tmp"), 0o700); err != nil {
			c.cleanup()
			return nil, fmt.Errorf("create node directory: %w", err)
		}
		c.Nodes = append(c.Nodes, n)
		started := time.Now()
		logf(cfg.Logger, "starting cassandra node", "cluster", c.Name, "node", n.HostPort(), "dir", n.files.Dir)
		if err := c.startNode(ctx, cfg, n); err != nil {
			c.stopAll(context.Background())
			c.cleanup()
			return nil, err
		}
		logf(cfg.Logger, "cassandra node ready", "node", n.HostPort(), "pid", n.PID, "elapsed", time.Since(started).Round(time.Millisecond))
	}
	if len(c.Nodes) > 1 {
		if err := c.waitPeers(ctx, cfg.ClientTLS, cfg.StartTimeout); err != nil {
			c.stopAll(context.Background())
			c.cleanup()
			return nil, err
		}
		if err := c.replicateAuth(ctx, cfg.ClientTLS); err != nil {
			c.stopAll(context.Background())
			c.cleanup()
			return nil, err
		}
	}
	return c, nil
}

// startNode launches one JVM and waits for a successful login.
func (c *Cluster) startNode(ctx context.Context, cfg Config, n *Node) error {
	logFile, err := os.OpenFile(n.files.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create node log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(cfg.Java, serverArgs(cfg.LibDir, cfg.Heap, n.files, n.JMXPort)...)
	cmd.Dir = n.files.Dir
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = javaEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !cfg.Detached {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start java: %w", err)
	}
	n.PID = cmd.Process.Pid
	n.done = make(chan struct{})
	go func() {
		n.waitErr = cmd.Wait()
		close(n.done)
	}()

	deadline := time.Now().Add(cfg.StartTimeout)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return n.waitReady(wctx, cfg.ClientTLS, cfg.Username, cfg.Password)
}

// waitReady polls until a real login succeeds, the process dies, the log
// shows a fatal startup error or ctx ends.
func (n *Node) waitReady(ctx context.Context, clientTLS *tls.Config, user, pass string) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	w := &startupWatch{tail: &logTail{path: n.files.Log}}
	var lastProbe error
	for {
		w.update()
		if w.fatal != "" {
			err := fmt.Errorf("cassandra failed to start: %s", w.fatal)
			if isPortInUse(w.fatal) {
				err = fmt.Errorf("%w: %w", errPortInUse, err)
			}
			n.kill()
			return n.startError(err)
		}
		if !n.alive() {
			return n.startError(fmt.Errorf("cassandra exited during startup (%s)", n.exitStatus()))
		}
		if w.listening {
			pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			lastProbe = probe(pctx, n, clientTLS, user, pass)
			cancel()
			if lastProbe == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			msg := "cassandra did not become ready"
			if lastProbe != nil {
				return n.startError(fmt.Errorf("%s: %w (last login attempt: %w)", msg, ctx.Err(), lastProbe))
			}
			return n.startError(fmt.Errorf("%s: %w", msg, ctx.Err()))
		case <-n.done:
		case <-tick.C:
		}
	}
}

// startError wraps err with the tail of the node's log.
func (n *Node) startError(err error) error {
	return &StartError{Node: n.HostPort(), LogPath: n.files.Log, LogTail: tailFile(n.files.Log, 60), Err: err}
}

// StartError is returned when a node fails to start. It carries the tail of
// the node's log.
type StartError struct {
	Node    string // address:port of the node
	LogPath string // the full log (removed unless Config.KeepWorkDir)
	LogTail string // the last lines of the log
	Err     error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("start cassandra node %s: %v\n--- last lines of %s ---\n%s", e.Node, e.Err, e.LogPath, e.LogTail)
}

func (e *StartError) Unwrap() error { return e.Err }

// Stop stops every node (SIGTERM to its process group, SIGKILL after a grace
// period) and removes the work directory unless KeepWorkDir was set. It is
// safe to call more than once.
func (c *Cluster) Stop(ctx context.Context) error {
	err := c.stopAll(ctx)
	if cerr := c.cleanup(); err == nil {
		err = cerr
	}
	return err
}

func (c *Cluster) stopAll(ctx context.Context) error {
	var errs []error
	for i := len(c.Nodes) - 1; i >= 0; i-- {
		if err := c.Nodes[i].stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) cleanup() error {
	if c.keepDir || c.Dir == "" {
		return nil
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove work directory: %w", err)
	}
	return nil
}

// stopGrace is how long a node may take to shut down after SIGTERM.
const stopGrace = 20 * time.Second

// stop terminates the node's process group.
func (n *Node) stop(ctx context.Context) error {
	if n.PID <= 0 || !n.alive() {
		return nil
	}
	if n.done == nil && !n.isOurJVM() {
		// A recycled pid: the node is gone and the pid is someone else's.
		return nil
	}
	_ = syscall.Kill(-n.PID, syscall.SIGTERM)
	if n.waitExit(ctx, stopGrace) {
		return nil
	}
	_ = syscall.Kill(-n.PID, syscall.SIGKILL)
	if n.waitExit(context.Background(), 10*time.Second) {
		return nil
	}
	return fmt.Errorf("stop node %s: process %d did not exit after SIGKILL", n.HostPort(), n.PID)
}

// kill SIGKILLs the node's process group and waits briefly for it to go.
func (n *Node) kill() {
	if n.PID > 0 && n.alive() {
		_ = syscall.Kill(-n.PID, syscall.SIGKILL)
		n.waitExit(context.Background(), 10*time.Second)
	}
}

// waitExit waits up to d for the process to exit.
func (n *Node) waitExit(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if !n.alive() {
			// Leftover group members (none expected) go too.
			_ = syscall.Kill(-n.PID, syscall.SIGKILL)
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return false
		case <-n.done:
		case <-tick.C:
		}
	}
}

// alive reports whether the node's process is still running.
func (n *Node) alive() bool {
	if n.done != nil {
		select {
		case <-n.done:
			return false
		default:
			return true
		}
	}
	return processRunning(n.PID)
}

func (n *Node) exitStatus() string {
	if n.done == nil {
		return "process gone"
	}
	if n.waitErr == nil {
		return "exit status 0"
	}
	return n.waitErr.Error()
}

// isOurJVM reports whether n.PID still runs this node's JVM (guards against
// pid reuse when the node was attached from a state file).
func (n *Node) isOurJVM() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n.PID))
	if err != nil {
		return false
	}
	s := string(b)
	return strings.Contains(s, "CassandraDaemon") && strings.Contains(s, n.files.Yaml)
}

// processRunning reports whether pid exists and is not a zombie.
func processRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// freePorts picks n distinct TCP ports that are free on every address.
func freePorts(addrs []string, n int) ([]int, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100 {
			return nil, errors.New("no free ports found on the loopback addresses")
		}
		l, err := net.Listen("tcp", net.JoinHostPort(addrs[0], "0"))
		if err != nil {
			return nil, fmt.Errorf("pick free port on %s: %w", addrs[0], err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		group := []net.Listener{l}
		ok := true
		for _, a := range addrs[1:] {
			l2, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			group = append(group, l2)
		}
		held = append(held, group...)
		if ok {
			ports = append(ports, port)
		}
	}
	return ports, nil
}

// initialToken spreads n single-token nodes evenly over the Murmur3 ring.
func initialToken(i, n int) string {
	// token = -2^63 + i*step + step/2 with step = 2^64/n; never the
	// partitioner's minimum token -2^63. One node gets token 0.
	step := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(int64(n)))
	t := new(big.Int).Mul(step, big.NewInt(int64(i)))
	t.Add(t, new(big.Int).Rsh(step, 1))
	t.Sub(t, new(big.Int).Lsh(big.NewInt(1), 63))
	return t.String()
}

// javaEnv is the environment of the JVMs: the caller's, without variables
// that would change which JVM options apply.
func javaEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "JAVA_HOME":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func logf(l *slog.Logger, msg string, args ...any) {
	if l != nil {
		l.Info(msg, args...)
	}
}
