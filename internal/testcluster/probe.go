package testcluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// SessionConfig returns a gocql v2 cluster configuration for hosts
// ("address:port") that logs in with user and password over TLS with
// tlsConfig. Host verification stays on: tlsConfig.RootCAs must verify the
// server certificate. The configuration talks only to the given hosts and
// does not discover others, which keeps tests deterministic.
func SessionConfig(hosts []string, tlsConfig *tls.Config, user, password string) *gocql.ClusterConfig {
	cc := gocql.NewCluster(hosts...)
	cc.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	cc.SslOpts = &gocql.SslOptions{Config: tlsConfig.Clone(), EnableHostVerification: true}
	cc.Timeout = 10 * time.Second
	cc.ConnectTimeout = 10 * time.Second
	cc.NumConns = 1
	cc.Consistency = gocql.LocalQuorum
	allowed := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		host, _, err := net.SplitHostPort(h)
		if err != nil {
			host = h
		}
		allowed[host] = true
	}
	cc.HostFilter = gocql.HostFilterFunc(func(h *gocql.HostInfo) bool {
		return allowed[h.ConnectAddress().String()]
	})
	return cc
}

// probe logs in to one node and reads its release version.
func probe(ctx context.Context, n *Node, clientTLS *tls.Config, user, pass string) error {
	_, err := releaseVersion(ctx, n.HostPort(), clientTLS, user, pass)
	return err
}

// releaseVersion opens a session to one host and returns
// system.local.release_version.
func releaseVersion(ctx context.Context, hostPort string, clientTLS *tls.Config, user, pass string) (string, error) {
	cc := SessionConfig([]string{hostPort}, clientTLS, user, pass)
	cc.DisableInitialHostLookup = true
	s, err := cc.CreateSession()
	if err != nil {
		return "", fmt.Errorf("login to %s: %w", hostPort, err)
	}
	defer s.Close()
	var v string
	if err := s.Query("SELECT release_version FROM system.local").ScanContext(ctx, &v); err != nil {
		return "", fmt.Errorf("query %s: %w", hostPort, err)
	}
	return v, nil
}

// waitPeers waits until every node lists every other node in
// system.peers_v2 with the right data center.
func (c *Cluster) waitPeers(ctx context.Context, clientTLS *tls.Config, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		last = c.checkPeers(ctx, clientTLS)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes of cluster %s did not see each other: %w", c.Name, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *Cluster) checkPeers(ctx context.Context, clientTLS *tls.Config) error {
	for _, n := range c.Nodes {
		cc := SessionConfig([]string{n.HostPort()}, clientTLS, c.Username, c.Password)
		cc.DisableInitialHostLookup = true
		s, err := cc.CreateSession()
		if err != nil {
			return fmt.Errorf("login to %s: %w", n.HostPort(), err)
		}
		seen := map[string]string{}
		iter := s.Query("SELECT peer, data_center FROM system.peers_v2").IterContext(ctx)
		var peer net.IP
		var dc string
		for iter.Scan(&peer, &dc) {
			seen[peer.String()] = dc
		}
		err = iter.Close()
		s.Close()
		if err != nil {
			return fmt.Errorf("read peers of %s: %w", n.HostPort(), err)
		}
		for _, o := range c.Nodes {
			if o == n {
				continue
			}
			if dc, ok := seen[o.Address]; !ok || dc != o.DC {
				return fmt.Errorf("node %s does not list peer %s in %s yet", n.Address, o.Address, o.DC)
			}
		}
	}
	return nil
}

// replicateAuth gives system_auth a replica on every node and repairs it.
// Fresh clusters create system_auth with SimpleStrategy and one replica, so
// in a multi-DC cluster the superuser's rows live in one data center only
// and LOCAL_ONE permission reads in the other fail with "Cannot achieve
// consistency level LOCAL_ONE".
func (c *Cluster) replicateAuth(ctx context.Context, clientTLS *tls.Config) error {
	perDC := map[string]int{}
	for _, n := range c.Nodes {
		perDC[n.DC]++
	}
	var parts []string
	for _, dc := range c.DCs() {
		parts = append(parts, fmt.Sprintf("'%s': %d", dc, perDC[dc]))
	}
	q := "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', " + strings.Join(parts, ", ") + "}"
	first := c.Nodes[0]
	cc := SessionConfig([]string{first.HostPort()}, clientTLS, c.Username, c.Password)
	cc.DisableInitialHostLookup = true
	s, err := cc.CreateSession()
	if err != nil {
		return fmt.Errorf("login to %s: %w", first.HostPort(), err)
	}
	err = s.Query(q).ExecContext(ctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("replicate system_auth: %w", err)
	}
	var out string
	for attempt := 0; attempt < 5; attempt++ {
		if out, err = c.Nodetool(ctx, first, "repair", "--full", "system_auth"); err == nil {
			logf(c.logger, "system_auth replicated to every node", "replication", strings.Join(parts, ", "))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("repair system_auth: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("repair system_auth: %w: %s", err, strings.TrimSpace(out))
}
