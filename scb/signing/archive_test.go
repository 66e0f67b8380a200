package signing_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/signing"
)

func TestDetachedArchiveSignature(t *testing.T) {
	p256, ed := testKey(t, scb.KeyECDSAP256), testKey(t, scb.KeyEd25519)
	var buf bytes.Buffer
	require.NoError(t, testBundle(t).Encode(&buf, scb.WriteOptions{}))
	archive := buf.Bytes()
	ks := keySet(t, trusted(p256))

	sig, err := signing.SignArchive(ctx, "dir/app.zip", archive, nil, newSigner(t, p256))
	require.NoError(t, err)
	st, v, err := signing.VerifyArchive(sig, archive, ks, signing.VerifyOptions{})
	require.NoError(t, err)
	require.Equal(t, "app.zip", st.Name)
	require.Equal(t, int64(len(archive)), st.Size)
	require.Equal(t, []string{keyID(t, p256)}, v.KeyIDs)

	// A second signer extends the same file.
	sig2, err := signing.SignArchive(ctx, "app.zip", archive, sig, newSigner(t, ed))
	require.NoError(t, err)
	_, v, err = signing.VerifyArchive(sig2, archive, keySet(t, trusted(p256), trusted(ed)), signing.VerifyOptions{Threshold: 2})
	require.NoError(t, err)
	require.Len(t, v.KeyIDs, 2)

	// Any change to the archive bytes is caught before it is opened.
	tampered := append(bytes.Clone(archive), 0)
	_, _, err = signing.VerifyArchive(sig, tampered, ks, signing.VerifyOptions{})
	require.ErrorIs(t, err, signing.ErrArchiveMismatch)
	_, err = signing.SignArchive(ctx, "app.zip", tampered, sig, newSigner(t, ed))
	require.ErrorIs(t, err, signing.ErrStaleSignature)

	// Untrusted signer, and a manifest envelope used as a detached one.
	_, _, err = signing.VerifyArchive(sig, archive, keySet(t, trusted(ed)), signing.VerifyOptions{})
	require.ErrorIs(t, err, signing.ErrUntrusted)
	env := signing.NewEnvelope(signing.PayloadTypeManifest, signing.NewArchiveStatement("app.zip", archive).Encode())
	require.NoError(t, env.Sign(ctx, newSigner(t, p256)))
	_, _, err = signing.VerifyArchive(env.Encode(), archive, ks, signing.VerifyOptions{})
	require.ErrorIs(t, err, signing.ErrBadSignature)
}

func TestSignArchiveFile(t *testing.T) {
	p256 := testKey(t, scb.KeyECDSAP256)
	name := filepath.Join(t.TempDir(), "app.tar.gz")
	require.NoError(t, testBundle(t).WriteFile(name, scb.WriteOptions{Format: scb.FormatTarGz}, false))
	sigPath, err := signing.SignArchiveFile(ctx, name, newSigner(t, p256))
	require.NoError(t, err)
	require.Equal(t, name+".sig", sigPath)
	sig, _ := os.ReadFile(sigPath)
	archive, _ := os.ReadFile(name)
	_, _, err = signing.VerifyArchive(sig, archive, keySet(t, trusted(p256)), signing.VerifyOptions{})
	require.NoError(t, err)
	// Re-signing with a second key keeps the first signature.
	_, err = signing.SignArchiveFile(ctx, name, newSigner(t, testKey(t, scb.KeyEd25519)))
	require.NoError(t, err)
	sig, _ = os.ReadFile(sigPath)
	env, err := signing.ParseEnvelope(sig)
	require.NoError(t, err)
	require.Len(t, env.Signatures, 2)
}

func TestArchiveStatement(t *testing.T) {
	st := signing.NewArchiveStatement(`C:\x\b"<&>.zip`, []byte("abc"))
	require.Equal(t, `{"type":"scbkit.archive/1","name":"b\"<&>.zip","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`, string(st.Encode()))
	got, err := signing.ParseArchiveStatement(st.Encode())
	require.NoError(t, err)
	require.Equal(t, st, got)
	require.Equal(t, "archive", signing.NewArchiveStatement("dir/", nil).Name)

	for name, in := range map[string]string{
		"missing size":  `{"type":"scbkit.archive/1","name":"a","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		"wrong type":    `{"type":"x","name":"a","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		"slash in name": `{"type":"scbkit.archive/1","name":"a/b","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		"negative":      `{"type":"scbkit.archive/1","name":"a","size":-3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		"float size":    `{"type":"scbkit.archive/1","name":"a","size":3.5,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`,
		"upper hex":     `{"type":"scbkit.archive/1","name":"a","size":3,"sha256":"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"}`,
		"extra member":  `{"type":"scbkit.archive/1","name":"a","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","x":1}`,
		"null":          `null`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := signing.ParseArchiveStatement([]byte(in))
			require.ErrorIs(t, err, signing.ErrMalformedEnvelope)
		})
	}
}
