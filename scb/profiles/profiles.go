// Package profiles turns environment policies and user templates into a
// bundle request.
//
// Four built-in profiles (development, staging, production, testing) set
// defaults and limits for each environment; user templates are YAML files
// that extend a built-in profile or another template; command-line or API
// overrides come last. Resolve merges the layers, records where every
// effective setting came from, and refuses contradictions: a validity
// beyond the profile's maximum, an unencrypted key or disabled hostname
// verification where the policy forbids them (unless the loudly named
// override is set), unknown drivers or components.
//
//	settings, err := profiles.Resolve(profiles.Input{
//		Environment: "production",
//		Templates:   []*profiles.Template{team},
//		Overrides:   profiles.Overrides{ClientID: ptr("billing")},
//	})
//	req := settings.Request()   // then set CA, passphrase, renderers
package profiles

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scbkit/scbkit/scb"
)

// Profile is a built-in environment policy.
type Profile struct {
	// Name is the environment name.
	Name string
	// Description says what the profile changes, for `scb profiles show`.
	Description string
	// ContactPoints used when nothing else names endpoints.
	ContactPoints []string
	// Validity is the default client-certificate validity; MaxValidity the
	// most any template or flag may ask for.
	Validity, MaxValidity time.Duration
	// EncryptKey is whether the client key is encrypted by default.
	EncryptKey bool
	// AllowUnencryptedKey is false where an unencrypted key needs the
	// InsecureUnencryptedKey override.
	AllowUnencryptedKey bool
	// AllowNoHostnameVerification is false where turning hostname checks off
	// needs the InsecureSkipHostnameVerification override.
	AllowNoHostnameVerification bool
	// MinTLSVersion is the minimum TLS version rendered into configs.
	MinTLSVersion string
	// KeyType is the default client key type.
	KeyType scb.KeyType
	// CAName is the common-name prefix of the environment's own CA.
	CAName string
}

const day = 24 * time.Hour

var builtins = []Profile{
	{
		Name:                        "development",
		Description:                 "Relaxed, for laptops and shared dev clusters: endpoints default to 127.0.0.1:9042, one-year certificates (up to two), the client key may be unencrypted, a development CA of its own.",
		ContactPoints:               []string{"127.0.0.1:9042"},
		Validity:                    365 * day,
		MaxValidity:                 730 * day,
		AllowUnencryptedKey:         true,
		AllowNoHostnameVerification: true,
		MinTLSVersion:               "1.2",
		KeyType:                     scb.KeyECDSAP256,
		CAName:                      "scbkit development",
	},
	{
		Name:          "staging",
		Description:   "Production-like policy with the staging CA and staging endpoints: encrypted client key by default, hostname verification required, 90-day certificates (at most 180).",
		Validity:      90 * day,
		MaxValidity:   180 * day,
		EncryptKey:    true,
		MinTLSVersion: "1.2",
		KeyType:       scb.KeyECDSAP256,
		CAName:        "scbkit staging",
	},
	{
		Name:          "production",
		Description:   "Full security: encrypted client key by default, hostname verification on, TLS 1.2 minimum (1.3 negotiated whenever the cluster offers it), 90-day certificates (at most 180) with renewal guidance, the production CA.",
		Validity:      90 * day,
		MaxValidity:   180 * day,
		EncryptKey:    true,
		MinTLSVersion: "1.2",
		KeyType:       scb.KeyECDSAP256,
		CAName:        "scbkit production",
	},
	{
		Name:                        "testing",
		Description:                 "Throwaway: test-data endpoints (127.0.0.1:9042 by default), a test CA whose certificates are marked NOT FOR PRODUCTION, 30-day certificates (at most 90), unencrypted keys allowed.",
		ContactPoints:               []string{"127.0.0.1:9042"},
		Validity:                    30 * day,
		MaxValidity:                 90 * day,
		AllowUnencryptedKey:         true,
		AllowNoHostnameVerification: true,
		MinTLSVersion:               "1.2",
		KeyType:                     scb.KeyECDSAP256,
		CAName:                      "scbkit TESTING - NOT FOR PRODUCTION",
	},
}

// Builtins returns the built-in profiles in a fixed order.
func Builtins() []Profile { return slices.Clone(builtins) }

// Builtin returns the built-in profile for an environment.
func Builtin(name string) (Profile, error) {
	for _, p := range builtins {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown environment %q (valid: %s)", name, strings.Join(scb.Environments, ", "))
}
