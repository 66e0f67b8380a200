package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"time"
)

// A TrustedKey is a public key allowed to sign bundles, optionally only
// during a window of time, so that keys can be rotated: a signature by a
// key outside its window does not count.
type TrustedKey struct {
	// Public is an *ecdsa.PublicKey (P-256 or P-384), an
	// ed25519.PublicKey or an *rsa.PublicKey (3072 or 4096 bits).
	Public crypto.PublicKey
	// NotBefore is the first instant the key is valid. Zero means no
	// lower bound. In a JWKS this is "nbf", in seconds since the epoch.
	NotBefore time.Time
	// Expires is the first instant the key is no longer valid (the window
	// is NotBefore <= t < Expires, as for a JWT). Zero means no upper
	// bound. In a JWKS this is "exp".
	Expires time.Time
}

// ValidAt reports whether t lies within the key's window.
func (k TrustedKey) ValidAt(t time.Time) bool {
	return (k.NotBefore.IsZero() || !t.Before(k.NotBefore)) && (k.Expires.IsZero() || t.Before(k.Expires))
}

// why says why the key is not valid at t.
func (k TrustedKey) why(t time.Time) string {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if !k.NotBefore.IsZero() && t.Before(k.NotBefore) {
		return fmt.Sprintf("not valid before %s (verification time %s)", stamp(k.NotBefore), stamp(t))
	}
	return fmt.Sprintf("expired at %s (verification time %s)", stamp(k.Expires), stamp(t))
}

type trustedKey struct {
	TrustedKey
	id  string
	alg Algorithm
}

// A KeySet is a set of trusted public keys, indexed by key id. The zero
// value is an empty set. A KeySet comes from outside the bundle it
// verifies: a bundle never vouches for itself.
type KeySet struct {
	keys []trustedKey
	byID map[string]int
}

// NewKeySet returns a set holding keys (see Add).
func NewKeySet(keys ...TrustedKey) (*KeySet, error) {
	s := &KeySet{}
	for _, k := range keys {
		if err := s.Add(k); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add adds k. It fails with ErrUnsupportedKey for keys AlgorithmOf rejects
// and with ErrMalformedKeySet if the key is already in the set or its
// window ends before it starts.
func (s *KeySet) Add(k TrustedKey) error {
	alg, err := AlgorithmOf(k.Public)
	if err != nil {
		return err
	}
	id, err := KeyID(k.Public)
	if err != nil {
		return err
	}
	if _, dup := s.byID[id]; dup {
		return fmt.Errorf("%w: key %s listed twice", ErrMalformedKeySet, id)
	}
	if !k.NotBefore.IsZero() && !k.Expires.IsZero() && !k.NotBefore.Before(k.Expires) {
		return fmt.Errorf("%w: key %s: nbf is not before exp", ErrMalformedKeySet, id)
	}
	if s.byID == nil {
		s.byID = map[string]int{}
	}
	s.byID[id] = len(s.keys)
	s.keys = append(s.keys, trustedKey{TrustedKey: k, id: id, alg: alg})
	return nil
}

// Len is the number of keys; a nil set has none.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// KeyIDs lists the key ids in the order the keys were added.
func (s *KeySet) KeyIDs() []string {
	if s == nil {
		return nil
	}
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = k.id
	}
	return ids
}

// Lookup returns the key with the given id.
func (s *KeySet) Lookup(id string) (TrustedKey, bool) {
	k, ok := s.lookup(id)
	return k.TrustedKey, ok
}

func (s *KeySet) lookup(id string) (trustedKey, bool) {
	if s == nil {
		return trustedKey{}, false
	}
	i, ok := s.byID[id]
	if !ok {
		return trustedKey{}, false
	}
	return s.keys[i], true
}

// String lists the key ids.
func (s *KeySet) String() string { return fmt.Sprintf("signing.KeySet%v", s.KeyIDs()) }

// jwk is one JSON Web Key (RFC 7517) as written by EncodeJWKS.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Nbf *int64 `json:"nbf,omitempty"`
	Exp *int64 `json:"exp,omitempty"`
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

var b64url = base64.RawURLEncoding

// EncodeJWKS returns the set as a JSON Web Key Set: {"keys": [...]}, each
// key with kty and its public parameters (EC: crv, x, y; OKP: crv, x; RSA:
// n, e), kid (the key id), alg, use "sig", and nbf/exp (integer seconds
// since the epoch) when the key has a window.
func (s *KeySet) EncodeJWKS() []byte {
	out := jwks{Keys: []jwk{}}
	if s != nil {
		for _, k := range s.keys {
			out.Keys = append(out.Keys, k.jwk())
		}
	}
	return encodeJSON(out)
}

func (k trustedKey) jwk() jwk {
	j := jwk{Kid: k.id, Alg: string(k.alg), Use: "sig"}
	switch p := k.Public.(type) {
	case *ecdsa.PublicKey:
		j.Kty = "EC"
		j.Crv = p.Curve.Params().Name
		raw, _ := p.Bytes() // 0x04 || X || Y, fixed width
		n := (len(raw) - 1) / 2
		j.X, j.Y = b64url.EncodeToString(raw[1:1+n]), b64url.EncodeToString(raw[1+n:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64url.EncodeToString(p)
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64url.EncodeToString(p.N.Bytes())
		j.E = b64url.EncodeToString(big.NewInt(int64(p.E)).Bytes())
	}
	if !k.NotBefore.IsZero() {
		v := k.NotBefore.Unix()
		j.Nbf = &v
	}
	if !k.Expires.IsZero() {
		v := k.Expires.Unix()
		j.Exp = &v
	}
	return j
}

// MaxKeySetSize bounds key-set input.
const MaxKeySetSize = 1 << 20

// ParseKeySet reads trusted keys from a JSON Web Key Set or from PEM.
//
// A JWKS is an object with a "keys" array of one or more JWKs: EC keys
// (crv "P-256" or "P-384", x and y unpadded base64url of exactly the
// coordinate size), OKP keys (crv "Ed25519", x of 32 bytes) or RSA keys (n
// and e unpadded base64url; 3072 or 4096 bits). Optional members: kid,
// which must equal the computed key id; alg, which must match the key;
// use, which must be "sig"; key_ops, which must contain "verify"; nbf and
// exp, integer seconds since the epoch. Other members are ignored, except
// private-key members (d, p, q, dp, dq, qi, oth, k), which are an error:
// a trust file must not hold secrets.
//
// PEM input is one or more "PUBLIC KEY" (SubjectPublicKeyInfo) blocks,
// without windows.
//
// Errors wrap ErrMalformedKeySet or ErrUnsupportedKey and never quote key
// material. An empty set is an error.
func ParseKeySet(data []byte) (*KeySet, error) {
	if len(data) > MaxKeySetSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedKeySet, MaxKeySetSize)
	}
	t := bytes.TrimSpace(data)
	var (
		s   *KeySet
		err error
	)
	switch {
	case bytes.HasPrefix(t, []byte("{")):
		s, err = parseJWKS(t)
	case bytes.HasPrefix(t, []byte("-----BEGIN")):
		s, err = parsePublicPEM(t)
	default:
		return nil, fmt.Errorf("%w: neither a JWKS nor PEM public keys", ErrMalformedKeySet)
	}
	if err != nil {
		return nil, err
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrMalformedKeySet)
	}
	return s, nil
}

// ReadKeySetFile reads a key set file (see ParseKeySet).
func ReadKeySetFile(name string) (*KeySet, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeySetSize+1))
	if err != nil {
		return nil, err
	}
	s, err := ParseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func badKey(i int, format string, a ...any) error {
	return fmt.Errorf("%w: key %d: "+format, append([]any{ErrMalformedKeySet, i + 1}, a...)...)
}

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func parseJWKS(data []byte) (*KeySet, error) {
	if err := checkJSONObject(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKeySet, err)
	}
	var top struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformedKeySet, describeJSONError(err))
	}
	if top.Keys == nil {
		return nil, fmt.Errorf("%w: no \"keys\" array", ErrMalformedKeySet)
	}
	s := &KeySet{}
	for i, m := range top.Keys {
		for _, p := range privateMembers {
			if _, ok := m[p]; ok {
				return nil, badKey(i, "holds private key material (%q); a key set must hold public keys only", p)
			}
		}
		k, err := parseJWK(i, m)
		if err != nil {
			return nil, err
		}
		id, err := KeyID(k.Public)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		alg, _ := AlgorithmOf(k.Public)
		if kid, ok, err := str(m, "kid"); err != nil {
			return nil, badKey(i, "%v", err)
		} else if ok && kid != id {
			return nil, badKey(i, "kid %s is not the key's id %s", quote(kid), id)
		}
		if a, ok, err := str(m, "alg"); err != nil {
			return nil, badKey(i, "%v", err)
		} else if ok && Algorithm(a) != alg {
			return nil, badKey(i, "alg %s does not match the key (%s)", quote(a), alg)
		}
		if u, ok, err := str(m, "use"); err != nil {
			return nil, badKey(i, "%v", err)
		} else if ok && u != "sig" {
			return nil, badKey(i, "use %s is not \"sig\"", quote(u))
		}
		if raw, ok := m["key_ops"]; ok {
			var ops []string
			if json.Unmarshal(raw, &ops) != nil {
				return nil, badKey(i, "key_ops is not an array of strings")
			}
			found := false
			for _, op := range ops {
				found = found || op == "verify"
			}
			if !found {
				return nil, badKey(i, "key_ops does not allow \"verify\"")
			}
		}
		if k.NotBefore, err = numericDate(m, "nbf"); err != nil {
			return nil, badKey(i, "%v", err)
		}
		if k.Expires, err = numericDate(m, "exp"); err != nil {
			return nil, badKey(i, "%v", err)
		}
		if err := s.Add(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
	}
	return s, nil
}

// str returns the string member name of m, whether it was present, and an
// error if it is not a string.
func str(m map[string]json.RawMessage, name string) (string, bool, error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, fmt.Errorf("%s is not a string", name)
	}
	return v, true, nil
}

func numericDate(m map[string]json.RawMessage, name string) (time.Time, error) {
	raw, ok := m[name]
	if !ok {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || v < 0 || v > 253402300799 { // 9999-12-31T23:59:59Z
		return time.Time{}, fmt.Errorf("%s is not an integer number of seconds since the epoch", name)
	}
	return time.Unix(v, 0).UTC(), nil
}

func b64member(m map[string]json.RawMessage, name string) ([]byte, error) {
	s, ok, err := str(m, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s missing", name)
	}
	b, err := b64url.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not unpadded base64url", name)
	}
	return b, nil
}

func parseJWK(i int, m map[string]json.RawMessage) (TrustedKey, error) {
	kty, _, err := str(m, "kty")
	if err != nil {
		return TrustedKey{}, badKey(i, "%v", err)
	}
	crv, _, err := str(m, "crv")
	if err != nil {
		return TrustedKey{}, badKey(i, "%v", err)
	}
	switch kty {
	case "EC":
		var curve elliptic.Curve
		switch crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return TrustedKey{}, fmt.Errorf("%w: key %d: EC curve %s (use P-256 or P-384)", ErrUnsupportedKey, i+1, quote(crv))
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err := b64member(m, "x")
		if err != nil {
			return TrustedKey{}, badKey(i, "%v", err)
		}
		y, err := b64member(m, "y")
		if err != nil {
			return TrustedKey{}, badKey(i, "%v", err)
		}
		if len(x) != size || len(y) != size {
			return TrustedKey{}, badKey(i, "x and y must be %d bytes each", size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return TrustedKey{}, badKey(i, "not a point on %s", crv)
		}
		return TrustedKey{Public: pub}, nil
	case "OKP":
		if crv != "Ed25519" {
			return TrustedKey{}, fmt.Errorf("%w: key %d: OKP curve %s (use Ed25519)", ErrUnsupportedKey, i+1, quote(crv))
		}
		x, err := b64member(m, "x")
		if err != nil {
			return TrustedKey{}, badKey(i, "%v", err)
		}
		if len(x) != ed25519.PublicKeySize {
			return TrustedKey{}, badKey(i, "x must be %d bytes", ed25519.PublicKeySize)
		}
		return TrustedKey{Public: ed25519.PublicKey(x)}, nil
	case "RSA":
		n, err := b64member(m, "n")
		if err != nil {
			return TrustedKey{}, badKey(i, "%v", err)
		}
		e, err := b64member(m, "e")
		if err != nil {
			return TrustedKey{}, badKey(i, "%v", err)
		}
		if len(n) > 1024 || len(e) == 0 || len(e) > 4 {
			return TrustedKey{}, badKey(i, "RSA parameters out of range")
		}
		ev := new(big.Int).SetBytes(e).Int64()
		if ev < 3 || ev > 1<<31-1 || ev%2 == 0 {
			return TrustedKey{}, badKey(i, "RSA exponent out of range")
		}
		return TrustedKey{Public: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}}, nil
	}
	return TrustedKey{}, fmt.Errorf("%w: key %d: kty %s (use EC, OKP or RSA)", ErrUnsupportedKey, i+1, quote(kty))
}

func parsePublicPEM(data []byte) (*KeySet, error) {
	s := &KeySet{}
	rest := data
	for i := 0; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			if bytes.Contains([]byte(b.Type), []byte("PRIVATE")) {
				return nil, fmt.Errorf("%w: PEM block %d is a private key; a key set must hold public keys only", ErrMalformedKeySet, i+1)
			}
			return nil, fmt.Errorf("%w: PEM block %d is %s, not PUBLIC KEY", ErrMalformedKeySet, i+1, quote(b.Type))
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d: malformed public key", ErrMalformedKeySet, i+1)
		}
		if err := s.Add(TrustedKey{Public: pub}); err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i+1, err)
		}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the last PEM block", ErrMalformedKeySet)
	}
	return s, nil
}

// EncodePublicKeyPEM returns pub as a "PUBLIC KEY" (SubjectPublicKeyInfo)
// PEM block.
func EncodePublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
