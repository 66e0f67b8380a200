// Package signingtest checks that a signing.Signer keeps the contract
// documented on the interface. Every Signer in scbkit runs through it, and
// so should yours (a KMS or HSM adapter, a remote signing service):
//
//	func TestMySigner(t *testing.T) {
//		signingtest.TestSigner(t, newMySigner(t))
//	}
package signingtest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scbkit/scbkit/scb/signing"
)

// TestSigner runs the conformance checks against s as subtests. s must be
// usable for several signatures and from several goroutines.
func TestSigner(t *testing.T, s signing.Signer) {
	t.Helper()
	pub := s.Public()
	alg, err := signing.AlgorithmOf(pub)
	if err != nil {
		t.Fatalf("Public() returns an unsupported key: %v", err)
	}
	id, err := signing.KeyID(pub)
	if err != nil {
		t.Fatalf("KeyID: %v", err)
	}
	keys, err := signing.NewKeySet(signing.TrustedKey{Public: pub})
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	ctx := context.Background()
	const payloadType = "application/vnd.scbkit.test+json"

	t.Run("RawSignatureVerifies", func(t *testing.T) {
		pae := signing.PAE(payloadType, []byte(`{"n":1}`))
		sig, err := s.SignPAE(ctx, pae)
		if err != nil {
			t.Fatalf("SignPAE: %v", err)
		}
		if err := signing.VerifySignature(pub, pae, sig); err != nil {
			t.Fatalf("%s signature does not verify with the standard rules: %v", alg, err)
		}
	})

	t.Run("EnvelopeRoundTrip", func(t *testing.T) {
		env := signing.NewEnvelope(payloadType, []byte("payload"))
		if err := env.Sign(ctx, s); err != nil {
			t.Fatalf("Sign: %v", err)
		}
		parsed, err := signing.ParseEnvelope(env.Encode())
		if err != nil {
			t.Fatalf("ParseEnvelope(Encode()): %v", err)
		}
		got, err := parsed.Verify(keys, signing.VerifyOptions{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !slices.Equal(got.KeyIDs, []string{id}) {
			t.Fatalf("verified key ids %v, want [%s]", got.KeyIDs, id)
		}
	})

	t.Run("TamperedPayloadFails", func(t *testing.T) {
		env := signing.NewEnvelope(payloadType, []byte("payload"))
		if err := env.Sign(ctx, s); err != nil {
			t.Fatalf("Sign: %v", err)
		}
		env.Payload = []byte("pAyload")
		if _, err := env.Verify(keys, signing.VerifyOptions{}); !errors.Is(err, signing.ErrBadSignature) {
			t.Fatalf("tampered payload: got %v, want ErrBadSignature", err)
		}
		env.Payload = []byte("payload")
		env.PayloadType += "x"
		if _, err := env.Verify(keys, signing.VerifyOptions{}); !errors.Is(err, signing.ErrBadSignature) {
			t.Fatalf("tampered payload type: got %v, want ErrBadSignature", err)
		}
	})

	t.Run("ResignReplaces", func(t *testing.T) {
		env := signing.NewEnvelope(payloadType, []byte("payload"))
		for range 2 {
			if err := env.Sign(ctx, s); err != nil {
				t.Fatalf("Sign: %v", err)
			}
		}
		if len(env.Signatures) != 1 {
			t.Fatalf("signing twice with one key gave %d signatures, want 1", len(env.Signatures))
		}
	})

	t.Run("TogetherWithAnotherKey", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(nil)
		otherSigner, err := signing.NewSigner(other)
		if err != nil {
			t.Fatal(err)
		}
		env := signing.NewEnvelope(payloadType, []byte("payload"))
		if err := env.Sign(ctx, otherSigner); err != nil {
			t.Fatal(err)
		}
		if err := env.Sign(ctx, s); err != nil {
			t.Fatalf("Sign: %v", err)
		}
		both, _ := signing.NewKeySet(signing.TrustedKey{Public: pub}, signing.TrustedKey{Public: other.Public()})
		got, err := env.Verify(both, signing.VerifyOptions{Threshold: 2})
		if err != nil || len(got.KeyIDs) != 2 {
			t.Fatalf("two signatures: got %v, %v", got, err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.SignPAE(cctx, signing.PAE(payloadType, nil))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SignPAE with a cancelled context: got %v, want context.Canceled", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				pae := signing.PAE(payloadType, fmt.Appendf(nil, "%d", i))
				sig, err := s.SignPAE(ctx, pae)
				if err == nil {
					err = signing.VerifySignature(pub, pae, sig)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent signing: %v", err)
			}
		}
	})
}
