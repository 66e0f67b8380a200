package scb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

func testCA(t testing.TB) *ca.Local {
	t.Helper()
	c, err := ca.New(ca.Config{})
	require.NoError(t, err)
	return c
}

func TestBuildProducesEveryFile(t *testing.T) {
	c := testCA(t)
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "prod-east", ClientID: "billing", CA: c})
	require.NoError(t, err)
	for _, p := range append(append([]string{}, scb.RequiredPaths...), scb.StockDriverPaths...) {
		d, ok := b.Get(p)
		require.True(t, ok, p)
		require.NotEmpty(t, d, p)
	}
	_, ok := b.Get(scb.ConnectionProfilePath("development"))
	require.True(t, ok)
	m, err := b.Metadata()
	require.NoError(t, err)
	require.Equal(t, "1.0", m.BundleVersion)
	require.Equal(t, scb.Fingerprint(c.Root()), m.CA.FingerprintSHA256)
	require.NoError(t, scb.Validate(b, scb.ValidateOptions{}))
}

func TestValidateDetectsTampering(t *testing.T) {
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: testCA(t)})
	require.NoError(t, err)
	require.NoError(t, b.Set(scb.ReadmePath, []byte("changed")))
	err = scb.Validate(b, scb.ValidateOptions{})
	require.ErrorIs(t, err, scb.ErrDigestMismatch)
}

func TestBuildRejectsValidityBeyondCA(t *testing.T) {
	c, err := ca.New(ca.Config{Validity: 30 * 24 * time.Hour})
	require.NoError(t, err)
	_, err = scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", CA: c, Validity: 60 * 24 * time.Hour})
	require.True(t, errors.Is(err, scb.ErrValidityExceedsCA), "%v", err)
}
