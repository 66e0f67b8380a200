package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Limits on envelopes read from untrusted input.
const (
	// MaxEnvelopeSize bounds the encoded size of an envelope.
	MaxEnvelopeSize = 4 << 20
	// MaxSignatures bounds the signatures in one envelope.
	MaxSignatures = 32
	// maxSignatureSize bounds one decoded signature (RSA-4096 is 512).
	maxSignatureSize = 1024
)

// PAE returns the DSSE v1 pre-authentication encoding of a payload, the
// bytes that are actually signed:
//
//	"DSSEv1" SP LEN(payloadType) SP payloadType SP LEN(payload) SP payload
//
// where SP is one space (0x20) and LEN is the length in bytes as ASCII
// decimal without leading zeros.
func PAE(payloadType string, payload []byte) []byte {
	b := make([]byte, 0, 32+len(payloadType)+len(payload))
	b = append(b, "DSSEv1 "...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	return append(b, payload...)
}

// An Envelope is a DSSE envelope: a typed payload and the signatures over
// its PAE. Payload and signatures are held decoded; Encode and
// ParseEnvelope handle the base64.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  []Signature
}

// A Signature is one entry of an envelope's signatures array.
type Signature struct {
	// KeyID identifies the key (see KeyID). Required in this format.
	KeyID string
	// Sig is the raw signature (see Signer for its encoding).
	Sig []byte
}

// NewEnvelope returns an unsigned envelope for payload.
func NewEnvelope(payloadType string, payload []byte) *Envelope {
	return &Envelope{PayloadType: payloadType, Payload: payload}
}

// PAE returns the bytes the envelope's signatures are over.
func (e *Envelope) PAE() []byte { return PAE(e.PayloadType, e.Payload) }

// KeyIDs lists the key ids of the signatures, in envelope order.
func (e *Envelope) KeyIDs() []string {
	ids := make([]string, len(e.Signatures))
	for i, s := range e.Signatures {
		ids[i] = s.KeyID
	}
	return ids
}

// Sign adds a signature by s. A signature by the same key already present
// is replaced, so signing twice with one key is idempotent in effect. The
// other signatures are kept in order.
func (e *Envelope) Sign(ctx context.Context, s Signer) error {
	id, err := KeyID(s.Public())
	if err != nil {
		return err
	}
	if len(e.Signatures) >= MaxSignatures && !slices.Contains(e.KeyIDs(), id) {
		return fmt.Errorf("envelope already holds %d signatures, the most allowed", MaxSignatures)
	}
	sig, err := s.SignPAE(ctx, e.PAE())
	if err != nil {
		return err
	}
	if len(sig) == 0 || len(sig) > maxSignatureSize {
		return fmt.Errorf("key %s returned a %d-byte signature", id, len(sig))
	}
	for i := range e.Signatures {
		if e.Signatures[i].KeyID == id {
			e.Signatures[i].Sig = sig
			return nil
		}
	}
	e.Signatures = append(e.Signatures, Signature{KeyID: id, Sig: sig})
	return nil
}

type wireEnvelope struct {
	PayloadType string          `json:"payloadType"`
	Payload     *string         `json:"payload"`
	Signatures  []wireSignature `json:"signatures"`
}

type wireSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// Encode returns the JSON encoding of e: members payloadType, payload,
// signatures (each keyid, sig) in that order, base64 in the standard
// alphabet with padding, two-space indentation and a final newline.
func (e *Envelope) Encode() []byte {
	w := wireEnvelope{
		PayloadType: e.PayloadType,
		Payload:     ptr(base64.StdEncoding.EncodeToString(e.Payload)),
		Signatures:  make([]wireSignature, len(e.Signatures)),
	}
	for i, s := range e.Signatures {
		w.Signatures[i] = wireSignature{KeyID: s.KeyID, Sig: base64.StdEncoding.EncodeToString(s.Sig)}
	}
	return encodeJSON(w)
}

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		// Only strings, integers and slices of them: cannot fail.
		panic("signing: JSON encoding failed: " + err.Error())
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

var strictBase64 = base64.StdEncoding.Strict()

// ParseEnvelope decodes an envelope from untrusted input. It accepts
// exactly one JSON object with the members payloadType (non-empty
// string), payload (standard base64 with padding) and signatures (1 to
// MaxSignatures objects with members keyid, 64 lower-case hexadecimal
// digits and unique within the envelope, and sig, non-empty standard
// base64); no other members, no duplicate members, nothing after the
// object, at most MaxEnvelopeSize bytes. Every error wraps
// ErrMalformedEnvelope and never quotes the input beyond a key id.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, malformed("envelope larger than %d bytes", MaxEnvelopeSize)
	}
	if err := checkJSONObject(data); err != nil {
		return nil, malformed("%v", err)
	}
	var w wireEnvelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, malformed("%v", describeJSONError(err))
	}
	if w.PayloadType == "" {
		return nil, malformed("payloadType missing")
	}
	if w.Payload == nil {
		return nil, malformed("payload missing")
	}
	payload, err := strictBase64.DecodeString(*w.Payload)
	if err != nil {
		return nil, malformed("payload is not standard base64")
	}
	if len(w.Signatures) == 0 {
		return nil, malformed("no signatures")
	}
	if len(w.Signatures) > MaxSignatures {
		return nil, malformed("more than %d signatures", MaxSignatures)
	}
	e := &Envelope{PayloadType: w.PayloadType, Payload: payload, Signatures: make([]Signature, len(w.Signatures))}
	seen := make(map[string]bool, len(w.Signatures))
	for i, s := range w.Signatures {
		if !isKeyID(s.KeyID) {
			return nil, malformed("signature %d: keyid is not 64 lower-case hexadecimal digits", i+1)
		}
		if seen[s.KeyID] {
			return nil, malformed("signature %d: key %s signed twice", i+1, s.KeyID)
		}
		seen[s.KeyID] = true
		sig, err := strictBase64.DecodeString(s.Sig)
		if err != nil || len(sig) == 0 || len(sig) > maxSignatureSize {
			return nil, malformed("signature %d: sig is not a non-empty standard base64 signature", i+1)
		}
		e.Signatures[i] = Signature{KeyID: s.KeyID, Sig: sig}
	}
	return e, nil
}

func isKeyID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && !bytes.ContainsAny([]byte(s), "ABCDEF")
}

// VerifyOptions tune signature verification.
type VerifyOptions struct {
	// Now is the time at which the signing keys' validity windows are
	// checked. Zero means time.Now().
	Now time.Time
	// Threshold is how many distinct trusted keys, valid at Now, must
	// have signed. Zero means 1.
	Threshold int
}

// Verified describes the outcome of a successful verification.
type Verified struct {
	// KeyIDs are the trusted keys, valid at the verification time, whose
	// signatures verified, in envelope order.
	KeyIDs []string
	// OutsideWindow are trusted keys whose signatures verified but that were
	// outside their validity window; they did not count.
	OutsideWindow []string
	// Unknown are key ids in the envelope that are not in the key set;
	// their signatures were not looked at.
	Unknown []string
}

// Verify checks e's signatures against keys. For each signature in order:
// one whose keyid is not in keys is ignored; one whose keyid is in keys
// but does not verify makes Verify fail with ErrBadSignature (a trusted
// key never signs garbage, so this means tampering); one by a key outside
// its validity window at opts.Now verifies but does not count. Verify
// succeeds when at least opts.Threshold distinct trusted keys counted.
// Otherwise it fails with ErrKeyNotValid if some trusted key was only
// outside its window, and with ErrUntrusted if not. An empty key set gives
// ErrNoTrustedKeys. Errors are *SignatureError values.
//
// Verify does not look at the payload type or content: VerifyBundle and
// VerifyArchive do.
func (e *Envelope) Verify(keys *KeySet, opts VerifyOptions) (*Verified, error) {
	if keys.Len() == 0 {
		return nil, &SignatureError{Err: ErrNoTrustedKeys}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	threshold := max(opts.Threshold, 1)
	pae := e.PAE()
	v := &Verified{}
	for _, s := range e.Signatures {
		k, ok := keys.lookup(s.KeyID)
		if !ok {
			v.Unknown = append(v.Unknown, s.KeyID)
			continue
		}
		if err := verifyRaw(k.alg, k.Public, pae, s.Sig); err != nil {
			return nil, &SignatureError{KeyID: s.KeyID, Err: fmt.Errorf("%w: %v", ErrBadSignature, err)}
		}
		if !k.ValidAt(now) {
			v.OutsideWindow = append(v.OutsideWindow, s.KeyID)
			continue
		}
		if !slices.Contains(v.KeyIDs, s.KeyID) {
			v.KeyIDs = append(v.KeyIDs, s.KeyID)
		}
	}
	if len(v.KeyIDs) >= threshold {
		return v, nil
	}
	if len(v.OutsideWindow) > 0 {
		k, _ := keys.lookup(v.OutsideWindow[0])
		return nil, &SignatureError{KeyID: v.OutsideWindow[0], Err: fmt.Errorf("%w: %s", ErrKeyNotValid, k.why(now))}
	}
	if len(v.KeyIDs) > 0 {
		return nil, &SignatureError{Err: fmt.Errorf("%w: %d of %d required trusted keys signed", ErrUntrusted, len(v.KeyIDs), threshold)}
	}
	return nil, &SignatureError{Err: fmt.Errorf("%w: signed by %d key(s), none of them trusted", ErrUntrusted, len(v.Unknown))}
}
