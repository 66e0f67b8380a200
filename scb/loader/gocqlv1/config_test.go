package gocqlv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/loader/gocqlv1"
	"github.com/scbkit/scbkit/scb/loader/internal/loadertest"
)

func TestNewClusterConfigAppliesBundle(t *testing.T) {
	b, err := loader.Load(loadertest.Build(t, scb.Request{
		ContactPoints: []string{"127.0.0.1:19042", "127.0.0.2:19042"}, LocalDatacenter: "dc-west",
		Credentials: &scb.Credentials{Username: "bundle_user", Password: "never-used-here"},
		Connection: scb.ConnectionParams{
			ConnectTimeout: scb.Duration(3 * time.Second), RequestTimeout: scb.Duration(7 * time.Second),
			Consistency: "LOCAL_ONE", MaxRetries: 5, ConnectionsPerHost: 4, Compression: "lz4",
		},
	}), loader.Options{})
	require.NoError(t, err)
	const pw = "Sup3r-s3cret-pw"
	var hooked bool
	cfg, err := gocqlv1.NewClusterConfig(b, gocqlv1.WithPassword("", pw), gocqlv1.WithKeyspace("app"),
		gocqlv1.WithClusterConfig(func(c *gocql.ClusterConfig) { hooked = true; c.PageSize = 100 }))
	require.NoError(t, err)
	require.True(t, hooked)
	require.Equal(t, []string{"127.0.0.1:19042", "127.0.0.2:19042"}, cfg.Hosts)
	require.Equal(t, 19042, cfg.Port)
	require.Equal(t, 3*time.Second, cfg.ConnectTimeout)
	require.Equal(t, 7*time.Second, cfg.Timeout)
	require.Equal(t, gocql.LocalOne, cfg.Consistency)
	require.Equal(t, &gocql.SimpleRetryPolicy{NumRetries: 5}, cfg.RetryPolicy)
	require.Equal(t, 4, cfg.NumConns)
	require.Nil(t, cfg.Compressor, "gocql v1 has no built-in LZ4: no compression")
	require.Equal(t, "app", cfg.Keyspace)
	require.Equal(t, 100, cfg.PageSize)
	require.NotNil(t, cfg.HostDialer, "TLS is done by the loader's dialer")
	require.Nil(t, cfg.SslOpts)
	require.NotNil(t, cfg.PoolConfig.HostSelectionPolicy)
	require.NotNil(t, cfg.Authenticator)
	s := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg.Authenticator, cfg.Authenticator)
	require.NotContains(t, s, pw)
	require.Contains(t, s, "bundle_user")
}

func TestNewClusterConfigRetryNone(t *testing.T) {
	b, err := loader.Load(loadertest.Build(t, scb.Request{Connection: scb.ConnectionParams{RetryPolicy: "none", Compression: "snappy"}}), loader.Options{})
	require.NoError(t, err)
	cfg, err := gocqlv1.NewClusterConfig(b)
	require.NoError(t, err)
	require.Nil(t, cfg.RetryPolicy)
	require.Nil(t, cfg.Authenticator)
	require.Equal(t, gocql.SnappyCompressor{}, cfg.Compressor)

	_, err = gocqlv1.NewClusterConfig(b, gocqlv1.WithPassword("", "pw"))
	require.ErrorContains(t, err, "no username")
	_, err = gocqlv1.NewClusterConfig(nil)
	require.Error(t, err)
	_, err = gocqlv1.NewClusterConfig(b, gocqlv1.WithClusterConfig(func(c *gocql.ClusterConfig) { c.HostDialer = nil }))
	require.ErrorContains(t, err, "must not change HostDialer")
}

func TestNewClusterConfigRefusesExpired(t *testing.T) {
	now := loadertest.T0
	b, err := loader.Load(loadertest.Build(t, scb.Request{Now: loadertest.Clock(now), CA: loadertest.NewCA(t, loadertest.Clock(now)), Validity: time.Hour}),
		loader.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	now = now.Add(2 * time.Hour)
	_, err = gocqlv1.NewClusterConfig(b)
	require.ErrorIs(t, err, loader.ErrExpired)
}
