package scb_test

// Golden files for the deterministic, human-readable parts of a bundle.
//
// Since Go 1.26 crypto/ecdsa and crypto/rsa ignore a caller's io.Reader
// (unless GODEBUG=cryptocustomrand=1), so keys and signatures are not
// reproducible from Request.Rand alone. The golden files therefore leave
// out every file that embeds a key or certificate, and normalise the
// values derived from them (fingerprints, serials, digests) as well as the
// random bundle ID and store passwords. TestBuildReproducible covers full
// byte-for-byte reproducibility under testing/cryptotest.SetGlobalRandom.
//
// Regenerate with: go test ./scb -run TestGolden -update

import (
	"bytes"
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

var goldenNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return goldenNow }

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func goldenCA(t testing.TB, kt scb.KeyType) scb.CA {
	t.Helper()
	c, err := ca.New(ca.Config{Name: "Golden", Organization: "scbkit tests", KeyType: kt, Now: fixedClock, Rand: seeded(1)})
	require.NoError(t, err)
	return c
}

var goldenCases = []struct {
	name string
	req  scb.Request
}{
	{"minimal", scb.Request{ClusterName: "c1", ClientID: "app"}},
	{"production", scb.Request{
		ClusterName: "prod-east", ClientID: "billing-api", Environment: "production",
		ContactPoints:   []string{"10.0.0.5:9042", "cass-2.example.com", "[2001:db8::7]:9142"},
		LocalDatacenter: "eu-west-1",
		Gateway:         scb.GatewayInfo{Host: "gw.example.com", MetadataPort: 29080, CQLPort: 29042},
		Validity:        90 * 24 * time.Hour,
		KeyType:         scb.KeyECDSAP384,
		Credentials:     &scb.Credentials{Username: "billing", Password: "s3cret-from-vault"},
		Connection: scb.ConnectionParams{
			Consistency: "LOCAL_ONE", ConnectionsPerHost: 4, Compression: "lz4",
			ConnectTimeout: scb.Duration(3 * time.Second), MinTLSVersion: "1.3",
		},
		ReadmeNotes:      "Ask #db-platform for access to the staging keyspace.\n\n- rotate every 90 days",
		GeneratorVersion: "v0.1.0-test",
	}},
	{"testing-encrypted-no-stock", scb.Request{
		ClusterName: "ci", ClientID: "runner-7", Environment: "testing",
		KeyPassphrase: []byte("golden passphrase"), OmitStockDriverFiles: true,
		InsecureSkipHostnameVerification: true,
		Validity:                         24 * time.Hour,
	}},
}

// goldenSkip are files that embed keys, certificates or binary stores.
var goldenSkip = map[string]bool{
	scb.CACertPath: true, scb.ClientCertPath: true, scb.ClientKeyPath: true,
	scb.CloudCAPath: true, scb.CloudCertPath: true, scb.CloudKeyPath: true,
	scb.CloudPFXPath: true, scb.CloudIdentityPath: true, scb.CloudTrustStorePath: true,
}

var normalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`), "00000000-0000-4000-8000-000000000000"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<sha256>"},
	{regexp.MustCompile(`("serial": )"[0-9a-f]+"`), `$1"<serial>"`},
	{regexp.MustCompile(`("(?:keyStorePassword|trustStorePassword|pfxCertPassword)": )"[^"]*"`), `$1"<password>"`},
	{regexp.MustCompile(`("size": )\d+`), `${1}0`},
}

func normalise(data []byte) []byte {
	for _, n := range normalisers {
		data = n.re.ReplaceAll(data, []byte(n.repl))
	}
	return data
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.CA = goldenCA(t, scb.KeyECDSAP256)
			req.Now = fixedClock
			req.Rand = seeded(2)
			b, err := scb.Build(context.Background(), req)
			require.NoError(t, err)
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
			}
			want := map[string]bool{}
			for _, f := range b.Files() {
				if goldenSkip[f.Path] {
					continue
				}
				want[f.Path] = true
				name := filepath.Join(dir, filepath.FromSlash(f.Path))
				got := normalise(f.Data)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
					require.NoError(t, os.WriteFile(name, got, 0o644))
					continue
				}
				exp, err := os.ReadFile(name)
				require.NoError(t, err, "missing golden file; run go test ./scb -run TestGolden -update")
				if !bytes.Equal(exp, got) {
					t.Errorf("%s differs from %s (run with -update if the change is intended):\n--- want\n%s\n--- got\n%s", f.Path, name, exp, got)
				}
			}
			// No stale golden files.
			require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if !want[filepath.ToSlash(rel)] {
					t.Errorf("stale golden file %s: the bundle has no %s", p, rel)
				}
				return nil
			}))
		})
	}
}

// TestGoldenNormalisationIsNarrow guards the normalisers: generated
// passwords and IDs must really differ between seeds, and the normalised
// files must then be equal, so the golden comparison is not vacuous.
func TestGoldenNormalisationIsNarrow(t *testing.T) {
	build := func(seed byte) *scb.Bundle {
		b, err := scb.Build(context.Background(), scb.Request{ClusterName: "c1", ClientID: "app", CA: goldenCA(t, scb.KeyECDSAP256), Now: fixedClock, Rand: seeded(seed)})
		require.NoError(t, err)
		return b
	}
	b1, b2 := build(10), build(11)
	for _, p := range []string{scb.MetadataPath, scb.CloudConfigPath, scb.ReadmePath} {
		d1, _ := b1.Get(p)
		d2, _ := b2.Get(p)
		require.NotEqual(t, d1, d2, "%s does not depend on the random source", p)
		require.Equal(t, string(normalise(d1)), string(normalise(d2)), p)
	}
}

// TestBuildReproducible checks that with every source of randomness fixed
// (testing/cryptotest.SetGlobalRandom, Request.Rand, CA rand) and a fixed
// clock, Build and Encode are byte-for-byte reproducible in zip and
// tar.gz. Nothing in the pipeline may depend on map order, the wall clock
// or the environment.
func TestBuildReproducible(t *testing.T) {
	encode := func(seed uint64) map[scb.Format][]byte {
		cryptotest.SetGlobalRandom(t, seed)
		req := goldenCases[1].req
		req.CA = goldenCA(t, scb.KeyECDSAP256)
		req.Now = fixedClock
		req.Rand = seeded(byte(seed))
		b, err := scb.Build(context.Background(), req)
		require.NoError(t, err)
		out := map[scb.Format][]byte{}
		for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
			var buf bytes.Buffer
			require.NoError(t, b.Encode(&buf, scb.WriteOptions{Format: f}))
			out[f] = buf.Bytes()
		}
		return out
	}
	a, b, c := encode(42), encode(42), encode(43)
	for _, f := range []scb.Format{scb.FormatZip, scb.FormatTarGz} {
		require.True(t, bytes.Equal(a[f], b[f]), "%s: same seed, different bytes", f)
		require.False(t, bytes.Equal(a[f], c[f]), "%s: different seeds, same bytes", f)
	}
}
