//go:build gatewayit

package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/internal/testcluster"
	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/gateway"
	"github.com/scbkit/scbkit/scb/loader"
)

// The live test is built only with -tags gatewayit, by
// scripts/test-gateway.sh, which builds the driver programs and sets these
// variables; a missing one fails the test. It starts its own two-node
// cluster (both nodes in dc1) because it stops one of them.
const (
	envLive        = "SCB_GATEWAY_IT"
	envLib         = "SCB_CASSANDRA_LIB"
	envJava        = "SCB_JAVA17"
	envJavaCP      = "SCB_GATEWAY_IT_JAVA_CP"
	envPython      = "SCB_GATEWAY_IT_PYTHON"
	envPythonDir   = "SCB_GATEWAY_IT_PYTHON_DIR"
	envNodeScript  = "SCB_GATEWAY_IT_NODE_SCRIPT"
	envBench       = "SCB_GATEWAY_BENCH"
	liveDC         = "dc1"
	liveKeyspace   = "gwit"
	appPassword    = "app-password-not-secret-in-tests"
	gatewayRolePwd = "gateway-password-not-secret-in-tests"
)

func need(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run scripts/test-gateway.sh", name)
	}
	return v
}

// scbCLI runs the scb command built from this repository.
type scbCLI struct {
	bin, home, caDir string
}

func (c *scbCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.bin, append(args, "--dir", c.caDir)...)
	cmd.Env = append(os.Environ(), "SCB_HOME="+c.home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "scb %s: %s", strings.Join(args, " "), errb.String())
	return out.String()
}

type liveEnv struct {
	cli                    *scbCLI
	dir                    string
	cluster                *testcluster.Cluster
	hostIDs                map[string]*testcluster.Node // host_id -> node
	gwBundle               *loader.Bundle               // the gateway's own identity
	gwBundlePath, gwTLSDir string
	gwServer               tls.Certificate
	clientCA               *ca.Local
	logs                   *syncBuffer
}

type liveGateway struct {
	name             string
	gw               *gateway.Gateway
	src              *gateway.CassandraSource
	cqlAddr, mdAddr  string
	bundlePath       string
	bundle           *scb.Bundle
	cancel           context.CancelFunc
	done             chan error
	mdPort, cqlPort  int
	adminAddr        string
	bundleClientTLS  *tls.Config
	bundleCloudExtra *scb.CloudConfig
	proc             *exec.Cmd // "scb gateway" process, for CLI instances
}

func TestLive(t *testing.T) {
	need(t, envLive)
	lib := need(t, envLib)
	ctx := context.Background()
	dir := t.TempDir()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	})

	// 1. The CA and every certificate, made with the scb CLI as an operator would.
	cli := &scbCLI{bin: filepath.Join(dir, "scb"), home: filepath.Join(dir, "home"), caDir: filepath.Join(dir, "ca")}
	if bin := os.Getenv("SCB_GATEWAY_IT_SCB_BIN"); bin != "" {
		cli.bin = bin // a prebuilt scb, for hand runs
	} else {
		build := exec.Command("go", "build", "-o", cli.bin, "github.com/scbkit/scbkit/cmd/scb")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "go build ./cmd/scb: %s", out)
	}
	cli.run(t, "ca", "init", "--insecure-unencrypted-keys")
	nodeTLSDir, gwTLSDir := filepath.Join(dir, "nodes-tls"), filepath.Join(dir, "gateway-tls")
	cli.run(t, "ca", "issue-server", "--host", "127.0.0.1", "--host", "127.0.0.2", "--host", "localhost", "--out", nodeTLSDir)
	cli.run(t, "ca", "issue-server", "--host", "localhost", "--out", gwTLSDir)
	gwBundlePath := filepath.Join(dir, "gateway-scb.zip")
	cli.run(t, "generate", "--cluster", "live", "--client", "scb-gateway", "--datacenter", liveDC,
		"--contact-point", "127.0.0.1:9042", "--out", gwBundlePath)
	gwBundle, err := loader.Open(gwBundlePath, loader.Options{})
	require.NoError(t, err)
	caLocal, err := ca.Open(cli.caDir, ca.OpenOptions{})
	require.NoError(t, err)

	// 2. A two-node cluster in dc1 whose nodes trust the CA.
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	probeTLS := gwBundle.TLSConfig()
	began := time.Now()
	cl, err := testcluster.Start(ctx, testcluster.Config{
		LibDir: lib, Java: os.Getenv(envJava), ClusterName: "scbgw",
		Nodes: []testcluster.NodeSpec{{Address: "127.0.0.1", DC: liveDC}, {Address: "127.0.0.2", DC: liveDC}},
		Heap:  os.Getenv("SCB_TEST_HEAP"),
		TLS: testcluster.ServerTLS{
			CertChainPEM: read(filepath.Join(nodeTLSDir, ca.ServerCertFile)),
			KeyPEM:       read(filepath.Join(nodeTLSDir, ca.ServerKeyFile)),
			TrustPEM:     read(filepath.Join(nodeTLSDir, ca.ServerCAFile)),
		},
		ClientTLS: probeTLS, BaseDir: dir,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_ = cl.Stop(sctx)
	})
	t.Logf("two-node cluster ready in %s: %v", time.Since(began).Round(time.Second), cl.Hosts())

	// 3. Schema and roles, as the superuser, directly.
	su := testcluster.SessionConfig(cl.Hosts(), probeTLS, testcluster.DefaultUsername, testcluster.DefaultPassword)
	su.Consistency = gocql.All
	sess, err := su.CreateSession()
	require.NoError(t, err)
	for _, stmt := range []string{
		"ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '" + liveDC + "': 2}",
		"CREATE ROLE IF NOT EXISTS scb_gateway WITH PASSWORD = '" + gatewayRolePwd + "' AND LOGIN = true",
		"CREATE ROLE IF NOT EXISTS app WITH PASSWORD = '" + appPassword + "' AND LOGIN = true",
		"CREATE KEYSPACE IF NOT EXISTS " + liveKeyspace + " WITH replication = {'class': 'NetworkTopologyStrategy', '" + liveDC + "': 2}",
		"CREATE TABLE IF NOT EXISTS " + liveKeyspace + ".kv (k text PRIMARY KEY, v text)",
		"GRANT SELECT ON KEYSPACE " + liveKeyspace + " TO app",
		"GRANT MODIFY ON KEYSPACE " + liveKeyspace + " TO app",
		"INSERT INTO " + liveKeyspace + ".kv (k, v) VALUES ('bench', 'value')",
	} {
		require.NoError(t, sess.Query(stmt).Exec(), stmt)
	}
	hostIDs := map[string]*testcluster.Node{}
	for _, n := range cl.Nodes {
		var id gocql.UUID
		q := sess.Query("SELECT host_id FROM system.local")
		for _, h := range sess.GetHosts() {
			if h.ConnectAddress().String() == n.Address {
				q = q.SetHostID(h.HostID())
			}
		}
		require.NoError(t, q.Scan(&id))
		hostIDs[id.String()] = n
	}
	sess.Close()
	require.Len(t, hostIDs, 2)
	t.Logf("host ids: %v", hostIDs)

	// The test cluster disables Cassandra's auth caches (validity 0), so
	// every request reads system_auth at LOCAL_QUORUM (Cassandra 5.0's
	// auth_read_consistency_level), which with two nodes needs both. Turn
	// the caches on, as production clusters have them: the benchmark then
	// measures queries rather than auth reads, and once a node is stopped
	// roles and permissions still come from the survivor's caches, so the
	// node-stop check is about routing, not about a two-node quorum.
	began = time.Now()
	for _, n := range cl.Nodes {
		for _, cache := range []string{"RolesCache", "PermissionsCache", "CredentialsCache", "NetworkPermissionsCache"} {
			out, err := cl.Nodetool(ctx, n, "setauthcacheconfig", "--cache-name", cache,
				"--validity-period", "600000", "--update-interval", "600000")
			require.NoError(t, err, "%s", out)
		}
	}
	t.Logf("auth caches enabled in %s", time.Since(began).Round(time.Millisecond))

	gwServer, err := tls.LoadX509KeyPair(filepath.Join(gwTLSDir, ca.ServerCertFile), filepath.Join(gwTLSDir, ca.ServerKeyFile))
	require.NoError(t, err)
	env := &liveEnv{cli: cli, dir: dir, cluster: cl, hostIDs: hostIDs, gwBundle: gwBundle, gwServer: gwServer, clientCA: caLocal, logs: logs,
		gwBundlePath: gwBundlePath, gwTLSDir: gwTLSDir}

	// 4. Two gateway instances (same cluster, same certificate), and a
	// third in passthrough mode. Each gets its own bundle from
	// "scb generate --gateway localhost:CQL,METADATA".
	gwA := env.startGateway(t, "a", gateway.Terminate)
	// The second instance runs as "scb gateway --config FILE" when the CLI
	// has the command, else in-process like the others.
	var gwB *liveGateway
	if exec.Command(cli.bin, "gateway", "--help").Run() == nil {
		gwB = env.startGatewayCLI(t, "b")
	} else {
		t.Log("scb has no gateway command yet: running instance b in-process")
		gwB = env.startGateway(t, "b", gateway.Terminate)
	}
	gwP := env.startGateway(t, "p", gateway.Passthrough)
	allIDs := slices.Sorted(mapsKeys(hostIDs))

	t.Run("metadata", func(t *testing.T) {
		for _, g := range []*liveGateway{gwA, gwB, gwP} {
			md, err := gateway.FetchMetadata(ctx, g.bundleClientTLS, g.mdAddr)
			require.NoError(t, err)
			require.Equal(t, allIDs, md.ContactInfo.ContactPoints, g.name)
			require.Equal(t, liveDC, md.ContactInfo.LocalDC)
			require.Equal(t, "localhost:"+strconv.Itoa(g.cqlPort), md.ContactInfo.SNIProxyAddress)
		}
	})

	t.Run("gocql", func(t *testing.T) {
		for _, g := range []*liveGateway{gwA, gwB, gwP} {
			env.checkGocql(t, g, allIDs)
		}
	})

	for _, drv := range []string{"java", "python", "nodejs"} {
		t.Run(drv, func(t *testing.T) {
			res := env.runDriver(t, drv, gwA)
			env.checkDriverResult(t, drv, res, allIDs)
		})
	}

	t.Run("second instance", func(t *testing.T) {
		res := env.runDriver(t, "python", gwB)
		env.checkDriverResult(t, "python", res, allIDs)
	})

	t.Run("passthrough", func(t *testing.T) {
		res := env.runDriver(t, "nodejs", gwP)
		env.checkDriverResult(t, "nodejs", res, allIDs)
	})

	t.Run("cqlsh-like no SNI", func(t *testing.T) {
		bdir := filepath.Join(dir, "bundle-a")
		require.NoError(t, gwA.bundle.WriteFile(bdir, scb.WriteOptions{Format: scb.FormatDir}, true))
		py := need(t, envPython)
		cmd := exec.Command(py, filepath.Join(need(t, envPythonDir), "cqlsh_like.py"), bdir, "localhost", strconv.Itoa(gwA.cqlPort), "app")
		cmd.Env = append(os.Environ(), "SCB_IT_PASSWORD="+appPassword)
		out, err := cmd.Output()
		require.NoError(t, err, "%s", stderrOf(err))
		var r struct {
			HostID string `json:"host_id"`
		}
		require.NoError(t, json.Unmarshal(lastLine(out), &r), "%s", out)
		require.Contains(t, allIDs, r.HostID)
	})

	t.Run("foreign client certificate refused", func(t *testing.T) {
		other, err := ca.New(ca.Config{Name: "intruder"})
		require.NoError(t, err)
		foreign := gwA.bundleClientTLS.Clone()
		foreign.Certificates = []tls.Certificate{newPKIFrom(t, other).client(t, "intruder")}
		for _, g := range []*liveGateway{gwA, gwB} {
			_, err = gateway.FetchMetadata(ctx, foreign, g.mdAddr)
			require.Error(t, err)
			t.Logf("metadata with a foreign certificate: %v", err)
			d := &gateway.SNIDialer{ProxyAddr: g.cqlAddr, TLS: foreign}
			dh, err := d.Dial(ctx, allIDs[0])
			if err == nil {
				_, err = cqlOptions(dh.Conn)
				dh.Conn.Close()
			}
			require.Error(t, err)
			t.Logf("proxy with a foreign certificate: %v", err)
		}
	})

	// A gateway whose certificate chains to the bundle CA but names another
	// host: which drivers check the name? (Research note §8: Python >= 3.29
	// is believed to check none in bundle mode.)
	t.Run("gateway certificate for another name", func(t *testing.T) {
		wrongDir := filepath.Join(dir, "wrong-tls")
		cli.run(t, "ca", "issue-server", "--host", "wrong.example", "--out", wrongDir)
		wrong, err := tls.LoadX509KeyPair(filepath.Join(wrongDir, ca.ServerCertFile), filepath.Join(wrongDir, ca.ServerKeyFile))
		require.NoError(t, err)
		gwW := env.startGatewayWithCert(t, "w", gateway.Terminate, wrong)
		defer gwW.stop(t)
		for _, drv := range []string{"java", "python", "nodejs"} {
			_, out, err := env.tryDriver(t, drv, gwW)
			if err != nil {
				t.Logf("%s refuses a gateway certificate for another name: %s", drv, firstLines(out, "xception", 2)+firstLines(out, "rror", 2))
			} else {
				t.Logf("%s ACCEPTS a gateway certificate for another name (chain to ca.crt only)", drv)
			}
			switch drv {
			case "java", "nodejs":
				require.Error(t, err, "%s must check the gateway's name", drv)
			}
		}
	})

	if os.Getenv(envBench) != "" {
		t.Run("bench", func(t *testing.T) { env.bench(t, gwA, gwP, gwB) })
	}

	t.Run("node stop", func(t *testing.T) { env.nodeStop(t, []*liveGateway{gwA, gwB}, allIDs) })

	for _, g := range []*liveGateway{gwA, gwB, gwP} {
		g.stop(t)
	}
	// What each driver's metadata request looked like (Host header, SNI,
	// TLS version, user agent), for the record.
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "metadata served") {
			t.Log(l)
		}
	}
	require.NotContains(t, logs.String(), gatewayRolePwd)
	require.NotContains(t, logs.String(), "PRIVATE KEY")
}

func mapsKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// firstLines returns up to n lines of s containing sub.
func firstLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < n {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, " | ")
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

func newPKIFrom(t *testing.T, c *ca.Local) *pki {
	p := &pki{ca: c}
	return p
}

func (e *liveEnv) startGateway(t *testing.T, name string, mode gateway.Mode) *liveGateway {
	t.Helper()
	return e.startGatewayWithCert(t, name, mode, e.gwServer)
}

func (e *liveEnv) startGatewayWithCert(t *testing.T, name string, mode gateway.Mode, cert tls.Certificate) *liveGateway {
	t.Helper()
	ml, cl, al := listen(t), listen(t), listen(t)
	g := &liveGateway{name: name, mdPort: port(ml), cqlPort: port(cl), cqlAddr: cl.Addr().String(),
		mdAddr: "localhost:" + strconv.Itoa(port(ml)), adminAddr: al.Addr().String(), done: make(chan error, 1)}
	g.bundlePath = filepath.Join(e.dir, "app-"+name+"-scb.zip")
	e.cli.run(t, "generate", "--cluster", "live", "--client", "app-"+name, "--datacenter", liveDC,
		"--gateway", fmt.Sprintf("localhost:%d,%d", g.cqlPort, g.mdPort), "--out", g.bundlePath)
	var err error
	g.bundle, err = scb.ReadFile(g.bundlePath, scb.Limits{})
	require.NoError(t, err)
	g.bundleClientTLS, g.bundleCloudExtra, err = gateway.BundleTLS(g.bundle)
	require.NoError(t, err)

	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("gateway", name)
	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	g.src, err = gateway.NewCassandraSource(sctx, gateway.CassandraConfig{
		ContactPoints: []string{e.cluster.Nodes[0].HostPort()}, TLS: e.gwBundle.TLSConfig(),
		Username: "scb_gateway", Password: gatewayRolePwd, Logger: logger,
	})
	require.NoError(t, err)
	pool := e.clientCAPool(t)
	g.gw, err = gateway.New(gateway.Config{
		PublicHost: "localhost", Certificate: &cert, ClientCAs: pool, Mode: mode,
		UpstreamTLS: e.gwBundle.TLSConfig(), Source: g.src, LocalDC: liveDC,
		RefreshInterval: 2 * time.Second, ShutdownTimeout: 3 * time.Second, Logger: logger,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { g.done <- g.gw.Serve(ctx, gateway.Listeners{Metadata: ml, CQL: cl, Admin: al}) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	require.NoError(t, g.gw.WaitReady(wctx))
	return g
}

func (g *liveGateway) stop(t *testing.T) {
	if g.proc != nil {
		require.NoError(t, g.proc.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- g.proc.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, "scb gateway exit")
		case <-time.After(30 * time.Second):
			_ = g.proc.Process.Kill()
			t.Errorf("scb gateway %s did not stop on SIGTERM", g.name)
		}
		g.proc = nil
		return
	}
	if g.cancel == nil {
		return
	}
	g.cancel()
	g.cancel = nil
	select {
	case err := <-g.done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Errorf("gateway %s did not stop", g.name)
	}
	g.src.Close()
}

// startGatewayCLI runs "scb gateway --config FILE" as a separate process.
func (e *liveEnv) startGatewayCLI(t *testing.T, name string) *liveGateway {
	t.Helper()
	free := func() int {
		l := listen(t)
		p := port(l)
		l.Close()
		return p
	}
	g := &liveGateway{name: name, mdPort: free(), cqlPort: free()}
	adminPort := free()
	g.cqlAddr = "127.0.0.1:" + strconv.Itoa(g.cqlPort)
	g.mdAddr = "localhost:" + strconv.Itoa(g.mdPort)
	g.adminAddr = "127.0.0.1:" + strconv.Itoa(adminPort)
	g.bundlePath = filepath.Join(e.dir, "app-"+name+"-scb.zip")
	e.cli.run(t, "generate", "--cluster", "live", "--client", "app-"+name, "--datacenter", liveDC,
		"--gateway", fmt.Sprintf("localhost:%d,%d", g.cqlPort, g.mdPort), "--out", g.bundlePath)
	var err error
	g.bundle, err = scb.ReadFile(g.bundlePath, scb.Limits{})
	require.NoError(t, err)
	g.bundleClientTLS, g.bundleCloudExtra, err = gateway.BundleTLS(g.bundle)
	require.NoError(t, err)
	pw := filepath.Join(e.dir, "gateway-"+name+".password")
	require.NoError(t, os.WriteFile(pw, []byte(gatewayRolePwd+"\n"), 0o600))
	cfg := filepath.Join(e.dir, "gateway-"+name+".yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`public_host: localhost
listen: {metadata: "127.0.0.1:%d", cql: "127.0.0.1:%d", admin: "127.0.0.1:%d"}
tls:
  cert_file: %s
  key_file: %s
  client_ca_file: %s
cluster:
  bundle: %s
  contact_points: [%s]
  username: scb_gateway
  password_file: %s
  local_dc: %s
refresh_interval: 2s
shutdown_timeout: 3s
log: {level: debug}
`, g.mdPort, g.cqlPort, adminPort,
		filepath.Join(e.gwTLSDir, ca.ServerCertFile), filepath.Join(e.gwTLSDir, ca.ServerKeyFile), filepath.Join(e.gwTLSDir, ca.ServerCAFile),
		e.gwBundlePath, e.cluster.Nodes[0].HostPort(), pw, liveDC)), 0o600))
	g.proc = exec.Command(e.cli.bin, "gateway", "--config", cfg)
	g.proc.Stdout, g.proc.Stderr = e.logs, e.logs
	require.NoError(t, g.proc.Start())
	t.Cleanup(func() {
		if g.proc != nil {
			_ = g.proc.Process.Kill()
			_ = g.proc.Wait()
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + g.adminAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 60*time.Second, 200*time.Millisecond, "scb gateway %s never became ready", name)
	t.Logf("gateway %s runs as: scb gateway --config %s (pid %d)", name, cfg, g.proc.Process.Pid)
	return g
}

func (e *liveEnv) clientCAPool(t *testing.T) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(e.clientCA.Root())
	return p
}

// checkGocql connects gocql through the gateway like the DataStax drivers
// do, finds both nodes and checks that each answers with its own host_id.
func (e *liveEnv) checkGocql(t *testing.T, g *liveGateway, allIDs []string) {
	t.Helper()
	ctx := context.Background()
	cfg, md, err := gateway.ClusterConfig(ctx, g.bundle)
	require.NoError(t, err)
	require.Equal(t, liveDC, md.ContactInfo.LocalDC)
	cfg.Authenticator = gocql.PasswordAuthenticator{Username: "app", Password: appPassword}
	// The drivers' default; the machine may be busy, so timeouts are retried.
	cfg.Consistency = gocql.LocalOne
	cfg.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 3}
	sess, err := cfg.CreateSession()
	require.NoError(t, err)
	defer sess.Close()
	var seen []string
	require.Eventually(t, func() bool {
		seen = seen[:0]
		for _, h := range sess.GetHosts() {
			if h.IsUp() {
				seen = append(seen, h.HostID())
			}
		}
		sort.Strings(seen)
		return slices.Equal(seen, allIDs)
	}, 20*time.Second, 100*time.Millisecond, "gocql sees %v", seen)
	for _, id := range allIDs {
		var got gocql.UUID
		require.NoError(t, sess.Query("SELECT host_id FROM system.local").SetHostID(id).Scan(&got))
		require.Equal(t, id, got.String(), "gateway %s: query sent to %s answered by %s", g.name, id, got)
	}
	key := "gocql-" + g.name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	require.NoError(t, sess.Query("INSERT INTO "+liveKeyspace+".kv (k, v) VALUES (?, ?)", key, "from gocql").Idempotent(true).Exec())
	var v string
	require.NoError(t, sess.Query("SELECT v FROM "+liveKeyspace+".kv WHERE k = ?", key).Idempotent(true).Scan(&v))
	require.Equal(t, "from gocql", v)
	t.Logf("gocql via gateway %s: nodes %v, system.local exact, round trip ok", g.name, seen)
}

type driverResult struct {
	Driver  string `json:"driver"`
	Version string `json:"version"`
	LocalDC string `json:"local_dc"`
	Nodes   []struct {
		HostID      string `json:"host_id"`
		SystemLocal string `json:"system_local"`
		DC          string `json:"dc"`
		Endpoint    string `json:"endpoint"`
	} `json:"nodes"`
	Roundtrip string `json:"roundtrip"`
}

func (e *liveEnv) runDriver(t *testing.T, driver string, g *liveGateway) *driverResult {
	t.Helper()
	res, out, err := e.tryDriver(t, driver, g)
	require.NoError(t, err, "%s driver failed:\n%s", driver, out)
	return res
}

// tryDriver runs a driver program and returns its result, or its output
// and error when it fails.
func (e *liveEnv) tryDriver(t *testing.T, driver string, g *liveGateway) (*driverResult, string, error) {
	t.Helper()
	var cmd *exec.Cmd
	switch driver {
	case "java":
		java := os.Getenv(envJava)
		if java == "" {
			java = testcluster.DefaultJava
		}
		cmd = exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", need(t, envJavaCP),
			"io.scbkit.gatewayit.GatewayIT", g.bundlePath, "app", liveKeyspace)
	case "python":
		cmd = exec.Command(need(t, envPython), filepath.Join(need(t, envPythonDir), "gateway_it.py"), g.bundlePath, "app", liveKeyspace)
	case "nodejs":
		// dns-hosts.js: see its header (the driver resolves H with DNS
		// only; the sandbox has no DNS server).
		script := need(t, envNodeScript)
		cmd = exec.Command("node", "--require", filepath.Join(filepath.Dir(script), "dns-hosts.js"), script, g.bundlePath, "app", liveKeyspace)
	}
	cmd.Env = append(os.Environ(), "SCB_IT_PASSWORD="+appPassword)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, "stdout:\n" + out.String() + "\nstderr:\n" + errb.String(), err
	}
	var res driverResult
	if err := json.Unmarshal(lastLine(out.Bytes()), &res); err != nil {
		return nil, out.String(), err
	}
	t.Logf("%s driver %s via gateway %s in %s: %s", driver, res.Version, g.name, time.Since(began).Round(time.Millisecond), lastLine(out.Bytes()))
	return &res, out.String(), nil
}

func (e *liveEnv) checkDriverResult(t *testing.T, driver string, res *driverResult, allIDs []string) {
	t.Helper()
	require.Equal(t, driver, res.Driver)
	var ids []string
	for _, n := range res.Nodes {
		ids = append(ids, n.HostID)
		require.Equal(t, n.HostID, n.SystemLocal, "%s: a query sent to node %s was answered by %s", driver, n.HostID, n.SystemLocal)
		require.Equal(t, liveDC, n.DC)
	}
	sort.Strings(ids)
	require.Equal(t, allIDs, ids, "%s discovered %v", driver, ids)
	require.Equal(t, "from "+driver, res.Roundtrip)
	// Nobody configured a local DC: each driver took metadata local_dc.
	require.Equal(t, liveDC, res.LocalDC, "%s local datacenter", driver)
}

// nodeStop stops the second node: both gateways drop it from /metadata
// and routing, while a session through the gateway keeps working on the
// first node.
func (e *liveEnv) nodeStop(t *testing.T, gws []*liveGateway, allIDs []string) {
	ctx := context.Background()
	cfg, _, err := gateway.ClusterConfig(ctx, gws[0].bundle)
	require.NoError(t, err)
	cfg.Authenticator = gocql.PasswordAuthenticator{Username: "app", Password: appPassword}
	cfg.Consistency = gocql.LocalOne
	cfg.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 2}
	sess, err := cfg.CreateSession()
	require.NoError(t, err)
	defer sess.Close()

	victim := e.cluster.Nodes[1]
	var victimID, survivorID string
	for id, n := range e.hostIDs {
		if n == victim {
			victimID = id
		} else {
			survivorID = id
		}
	}
	// Warm the survivor's auth caches for everything asked after the stop.
	var warm gocql.UUID
	require.NoError(t, sess.Query("SELECT host_id FROM system.local").SetHostID(survivorID).Scan(&warm))
	var ok, failed atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var v string
			if err := sess.Query("SELECT v FROM " + liveKeyspace + ".kv WHERE k = 'bench'").Scan(&v); err != nil {
				failed.Add(1)
				lastErr.Store(err.Error())
			} else {
				ok.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second)

	t.Logf("stopping node %s (%s, pid %d)", victimID, victim.HostPort(), victim.PID)
	stoppedAt := time.Now()
	require.NoError(t, syscall.Kill(-victim.PID, syscall.SIGTERM))
	for _, g := range gws {
		require.Eventually(t, func() bool {
			md, err := gateway.FetchMetadata(ctx, g.bundleClientTLS, g.mdAddr)
			return err == nil && slices.Equal(md.ContactInfo.ContactPoints, []string{survivorID})
		}, 60*time.Second, 100*time.Millisecond, "gateway %s still lists the stopped node", g.name)
		t.Logf("gateway %s dropped the node from /metadata after %s", g.name, time.Since(stoppedAt).Round(time.Millisecond))
		d := &gateway.SNIDialer{ProxyAddr: g.cqlAddr, TLS: g.bundleClientTLS}
		dh, err := d.Dial(ctx, victimID)
		if err == nil {
			_, err = cqlOptions(dh.Conn)
			dh.Conn.Close()
		}
		require.Error(t, err, "gateway %s still routes to the stopped node", g.name)
	}
	// After the removal every query succeeds on the survivor.
	okBefore, failedBefore := ok.Load(), failed.Load()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	require.Greater(t, ok.Load()-okBefore, int64(50))
	require.Equal(t, failedBefore, failed.Load(), "queries failed after the node was removed: %v", lastErr.Load())
	t.Logf("queries during the stop: %d ok, %d failed in total (last error: %v)", ok.Load(), failed.Load(), lastErr.Load())
	var got gocql.UUID
	require.NoError(t, sess.Query("SELECT host_id FROM system.local").SetHostID(survivorID).Scan(&got))
	require.Equal(t, survivorID, got.String())
	// The other driver families connect fresh with one node down.
	md, err := gateway.FetchMetadata(ctx, gws[1].bundleClientTLS, gws[1].mdAddr)
	require.NoError(t, err)
	require.Equal(t, []string{survivorID}, md.ContactInfo.ContactPoints)
	_ = allIDs
}

// cqlOptions sends OPTIONS and waits for SUPPORTED on an open connection.
func cqlOptions(c net.Conn) (bool, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{0x04, 0, 0, 1, 0x05, 0, 0, 0, 0}); err != nil {
		return false, err
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return false, err
	}
	if hdr[4] != 0x06 {
		return false, fmt.Errorf("opcode %#x, want SUPPORTED", hdr[4])
	}
	return true, nil
}
