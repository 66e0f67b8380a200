package verify_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/scbkit/scbkit/scb"
	"github.com/scbkit/scbkit/scb/ca"
	"github.com/scbkit/scbkit/scb/signing"
	"github.com/scbkit/scbkit/scb/verify"
)

// Verify a signed bundle file with the trusted keys, check by check.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "scb-example")
	defer os.RemoveAll(dir)

	authority, _ := ca.New(ca.Config{})
	bundle, err := scb.Build(ctx, scb.Request{ClusterName: "prod", ClientID: "billing", CA: authority})
	if err != nil {
		log.Fatal(err)
	}
	key, _ := signing.GenerateKey(scb.KeyECDSAP256)
	signer, _ := signing.NewSigner(key)
	if err := signing.SignBundle(ctx, bundle, signer); err != nil {
		log.Fatal(err)
	}
	name := filepath.Join(dir, "billing.zip")
	if err := bundle.WriteFile(name, scb.WriteOptions{}, false); err != nil {
		log.Fatal(err)
	}

	// The verifier's keys come from outside the bundle.
	keys, _ := signing.NewKeySet(signing.TrustedKey{Public: key.Public()})
	report := verify.VerifyFile(name, verify.Options{Keys: keys})
	for _, r := range report.Results {
		fmt.Println(r.Check, r.Status)
	}
	fmt.Println("outcome:", report.Outcome(), "exit code:", report.ExitCode())
	// Output:
	// detached_signature skip
	// archive pass
	// completeness pass
	// signature pass
	// manifest pass
	// chain pass
	// validity pass
	// consistency pass
	// outcome: valid exit code: 0
}
