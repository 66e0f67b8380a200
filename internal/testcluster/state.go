package testcluster

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateVersion is the version of the state file format written by
// WriteState.
const StateVersion = 1

// State is the JSON state file describing running test clusters, written by
// "scb-testcluster start" and read by FromEnv and "scb-testcluster stop".
// It holds paths to key material, never keys.
type State struct {
	// Version is StateVersion.
	Version int `json:"version"`
	// Dir is the run directory holding every cluster's work directory and
	// the CA files; "stop" removes it.
	Dir string `json:"dir"`
	// CACert and CAKey are PEM files of the test CA that issued the nodes'
	// server certificates and whose client certificates they accept. CAKey
	// is a PKCS#8 key (0600).
	CACert string `json:"ca_cert"`
	CAKey  string `json:"ca_key"`
	// CADir, when set, is the scb/ca directory of the test CA (root +
	// intermediate): `scb generate --dir CADir --environment testing` makes
	// bundles the clusters accept. CACert is its root and CAKey the root
	// key, which can also sign client certificates directly.
	CADir string `json:"ca_dir,omitempty"`
	// Username and Password are the superuser credentials.
	Username string `json:"username"`
	Password string `json:"password"`
	// LibDir and Java are what the nodes run on; nodetool uses them too.
	LibDir string `json:"lib_dir"`
	Java   string `json:"java"`
	// Clusters are the running clusters; the first is the primary one.
	Clusters []ClusterState `json:"clusters"`
}

// ClusterState describes one running cluster.
type ClusterState struct {
	Name  string      `json:"name"`
	Dir   string      `json:"dir"`
	Nodes []NodeState `json:"nodes"`
}

// NodeState describes one running node.
type NodeState struct {
	Address     string `json:"address"`
	NativePort  int    `json:"native_port"`
	StoragePort int    `json:"storage_port"`
	JMXPort     int    `json:"jmx_port"`
	DC          string `json:"dc"`
	Rack        string `json:"rack"`
	// PID is the JVM's pid, which is also its process group id.
	PID int `json:"pid"`
	// Dir is the node's work directory; Log, Keystore and Truststore are
	// files below it.
	Dir        string `json:"dir"`
	Log        string `json:"log"`
	Keystore   string `json:"keystore"`
	Truststore string `json:"truststore"`
}

// State returns the part of the state file that describes c.
func (c *Cluster) State() ClusterState {
	cs := ClusterState{Name: c.Name, Dir: c.Dir}
	for _, n := range c.Nodes {
		cs.Nodes = append(cs.Nodes, NodeState{
			Address: n.Address, NativePort: n.NativePort, StoragePort: n.StoragePort, JMXPort: n.JMXPort,
			DC: n.DC, Rack: n.Rack, PID: n.PID,
			Dir: n.files.Dir, Log: n.files.Log, Keystore: n.files.Keystore, Truststore: n.files.Truststore,
		})
	}
	return cs
}

// WriteState writes s to path atomically with mode 0600.
func WriteState(path string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// ReadState reads a state file written by WriteState.
func ReadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode state %s: %w", path, err)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("state %s: unsupported version %d (want %d)", path, s.Version, StateVersion)
	}
	if len(s.Clusters) == 0 {
		return nil, fmt.Errorf("state %s: no clusters", path)
	}
	for _, c := range s.Clusters {
		if len(c.Nodes) == 0 {
			return nil, fmt.Errorf("state %s: cluster %q has no nodes", path, c.Name)
		}
	}
	return &s, nil
}

// Attach returns the clusters described by s, with the CA loaded from the
// state's CA files. The clusters are not owned by the caller: their Stop
// method stops the processes all the same, so tests should not call it.
func (s *State) Attach() ([]*Cluster, error) {
	ca, err := s.loadCA()
	if err != nil {
		return nil, err
	}
	var out []*Cluster
	for _, cs := range s.Clusters {
		c := &Cluster{
			Name: cs.Name, Dir: cs.Dir,
			Username: s.Username, Password: s.Password,
			CA: ca, ServerRoots: ca.Pool(),
			libDir: s.LibDir, java: s.Java, keepDir: true,
		}
		for _, ns := range cs.Nodes {
			c.Nodes = append(c.Nodes, &Node{
				Address: ns.Address, NativePort: ns.NativePort, StoragePort: ns.StoragePort, JMXPort: ns.JMXPort,
				DC: ns.DC, Rack: ns.Rack, PID: ns.PID,
				files: newNodeFiles(ns.Dir),
			})
		}
		out = append(out, c)
	}
	return out, nil
}

// StopState stops every node listed in the state file at path, removes the
// state's run directory and the state file. A missing state file is not an
// error (nothing to stop).
func StopState(ctx context.Context, path string) error {
	s, err := ReadState(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, cs := range s.Clusters {
		c := &Cluster{Name: cs.Name, keepDir: true}
		for _, ns := range cs.Nodes {
			c.Nodes = append(c.Nodes, &Node{Address: ns.Address, NativePort: ns.NativePort, PID: ns.PID, files: newNodeFiles(ns.Dir)})
		}
		if err := c.stopAll(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && s.Dir != "" && filepath.IsAbs(s.Dir) && s.Dir != "/" {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove run directory: %w", err))
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove state file: %w", err))
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it over path, so readers see either the old or the new content.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return nil
}

// certPool parses every CERTIFICATE block of pemData into a pool.
func certPool(pemData []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemData) {
		return nil, errors.New("no certificates found in PEM data")
	}
	return p, nil
}

func (s *State) loadCA() (*CA, error) {
	if s.CADir != "" {
		return OpenCA(s.CADir)
	}
	certPEM, err := os.ReadFile(s.CACert)
	if err != nil {
		return nil, fmt.Errorf("read ca certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(s.CAKey)
	if err != nil {
		return nil, fmt.Errorf("read ca key: %w", err)
	}
	return LoadCA(certPEM, keyPEM)
}
