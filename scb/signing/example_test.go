package signing_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/signing"
)

// Sign a bundle with a new Ed25519 key, publish the public key as a JWKS
// entry valid for a year, and verify the bundle with that key set.
func Example() {
	ctx := context.Background()
	authority, err := ca.New(ca.Config{})
	if err != nil {
		log.Fatal(err)
	}
	bundle, err := scb.Build(ctx, scb.Request{ClusterName: "prod", ClientID: "billing", CA: authority})
	if err != nil {
		log.Fatal(err)
	}

	key, err := signing.GenerateKey(scb.KeyEd25519)
	if err != nil {
		log.Fatal(err)
	}
	// Store it with signing.WritePrivateKeyFile(name, key,
	// signing.PrivateKeyEncoding{Passphrase: pass}, false).
	signer, err := signing.NewSigner(key)
	if err != nil {
		log.Fatal(err)
	}
	if err := signing.SignBundle(ctx, bundle, signer); err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	trusted, err := signing.NewKeySet(signing.TrustedKey{Public: key.Public(), NotBefore: now.Add(-time.Hour), Expires: now.AddDate(1, 0, 0)})
	if err != nil {
		log.Fatal(err)
	}
	jwks := trusted.EncodeJWKS() // give this to verifiers
	keys, err := signing.ParseKeySet(jwks)
	if err != nil {
		log.Fatal(err)
	}
	verified, err := signing.VerifyBundle(bundle, keys, signing.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed by", len(verified.KeyIDs), "trusted key")
	// Output: signed by 1 trusted key
}
