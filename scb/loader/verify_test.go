package loader_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/loader"
	"github.com/scbkit/scbkit/scb/signing"
)

func encode(t *testing.T, b *scb.Bundle) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, b.Encode(&buf, scb.WriteOptions{}))
	return bytes.NewReader(buf.Bytes())
}

// TestSignatureHookAndEnvironments checks loader.Options.Verify with
// signing.BundleVerifier, and Options.Environments.
func TestSignatureHookAndEnvironments(t *testing.T) {
	authority, err := ca.New(ca.Config{})
	require.NoError(t, err)
	b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c", ClientID: "x", Environment: "testing", CA: authority})
	require.NoError(t, err)

	trustedKey, err := signing.GenerateKey(scb.KeyECDSAP256)
	require.NoError(t, err)
	otherKey, err := signing.GenerateKey(scb.KeyEd25519)
	require.NoError(t, err)
	keys, err := signing.NewKeySet(signing.TrustedKey{Public: trustedKey.Public()})
	require.NoError(t, err)
	opts := loader.Options{Verify: signing.BundleVerifier(keys, signing.VerifyOptions{})}

	r := encode(t, b)
	_, err = loader.Decode(r, r.Size(), opts)
	require.ErrorIs(t, err, signing.ErrUnsigned)
	var le *loader.Error
	require.True(t, errors.As(err, &le))
	require.Equal(t, loader.StageSignature, le.Stage)

	other, err := signing.NewSigner(otherKey)
	require.NoError(t, err)
	require.NoError(t, signing.SignBundle(context.Background(), b, other))
	r = encode(t, b)
	_, err = loader.Decode(r, r.Size(), opts)
	require.ErrorIs(t, err, signing.ErrUntrusted)

	s, err := signing.NewSigner(trustedKey)
	require.NoError(t, err)
	require.NoError(t, signing.SignBundle(context.Background(), b, s))
	r = encode(t, b)
	lb, err := loader.Decode(r, r.Size(), opts)
	require.NoError(t, err)
	require.Equal(t, "testing", lb.Metadata().Environment)

	opts.Environments = []string{"production"}
	r = encode(t, b)
	_, err = loader.Decode(r, r.Size(), opts)
	require.ErrorIs(t, err, loader.ErrEnvironment)
	require.ErrorContains(t, err, `bundle is for "testing", this service accepts production`)
}
