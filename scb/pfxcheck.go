package scb

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/bits"
)

// Limits on what a PKCS#12 file may ask of its reader. go-pkcs12 honours
// whatever iteration counts a file states, so checkPFXWork enforces these
// before it runs.
//
// Work is counted in hash iterations: an iteration count times the number
// of hash-sized blocks derived with it (PBES1 derives its key and IV
// separately; PBKDF2 and the PKCS#12 KDF run the full count once per output
// block). One unit costs about 0.14 µs with SHA-1 or SHA-256 and up to
// 0.5 µs with SHA-512 on a slow 2-core machine, so maxPFXWork is about
// 0.6 s (2 s if everything uses SHA-512). What scb writes costs 8,192 units
// (Modern2023) or 18,433 (LegacyDES), OpenSSL's defaults about as much,
// and a file using the per-count cap for its MAC, certificates and key
// (1,000,000 iterations of PBKDF2-SHA256 each) still fits.
const (
	maxPFXSize       = 1 << 20   // bytes
	maxPFXIterations = 1_000_000 // any one iteration count
	maxPFXWork       = 4_000_000 // hash iterations for the whole file, by us and go-pkcs12
	maxPFXContents   = 8         // ContentInfos in the AuthenticatedSafe
	maxPFXBags       = 64        // SafeBags in all contents together
	maxPFXSalt       = 1024      // bytes
)

var (
	oidPKCS7Data          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidPKCS7EncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}

	oidKeyBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidCRLBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 4}
	oidSecretBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 5}
	oidSafeContentsBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}

	oidPBEWithSHA1And3DES   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHA1And128RC2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHA1And40RC2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBMAC1               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}

	oidSHA1       = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA512     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	// pfxAESKeySizes are the PBES2 ciphers go-pkcs12 decrypts, by OID.
	pfxAESKeySizes = map[string]int{
		"2.16.840.1.101.3.4.1.2":  16, // AES-128-CBC
		"2.16.840.1.101.3.4.1.22": 24, // AES-192-CBC
		"2.16.840.1.101.3.4.1.42": 32, // AES-256-CBC
	}
)

// The RFC 7292 structures, as far as checkPFXWork needs them.
type (
	pfxPDU struct {
		Version  int
		AuthSafe pfxContentInfo
		MacData  asn1.RawValue `asn1:"optional"`
	}
	pfxContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"optional"` // [0] EXPLICIT
	}
	pfxMacData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	}
	pfxEncryptedData struct {
		Version              int
		EncryptedContentInfo struct {
			ContentType      asn1.ObjectIdentifier
			Algorithm        pkix.AlgorithmIdentifier
			EncryptedContent []byte `asn1:"tag:0,optional"`
		}
	}
	pfxSafeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue // [0] EXPLICIT
		Attributes asn1.RawValue `asn1:"optional"`
	}
	pfxEncryptedKeyInfo struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}
	pfxPBES1Params struct {
		Salt       []byte
		Iterations int
	}
	pfxPBES2Params struct {
		KDF, Cipher pkix.AlgorithmIdentifier
	}
	pfxPBMAC1Params struct {
		KDF, MAC pkix.AlgorithmIdentifier
	}
	pfxPBKDF2Params struct {
		Salt       asn1.RawValue
		Iterations int
		KeyLength  int                      `asn1:"optional"`
		PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
	}
)

// checkPFXWork walks a PKCS#12 file (RFC 7292) before go-pkcs12 decodes it
// and refuses one that would make the decode work without bound: a MAC,
// encryptedData content or shrouded key bag whose iteration count exceeds
// maxPFXIterations, a file whose key derivations add up to more than
// maxPFXWork hash iterations, more than maxPFXContents contents or
// maxPFXBags bags, nested safe contents, and files over maxPFXSize bytes.
//
// Bags inside an encryptedData content are visible only once it is
// decrypted, so checkPFXWork decrypts each such content itself, with
// password and after checking its parameters, and checks the bags inside
// too; that work is counted against maxPFXWork along with go-pkcs12's. It
// therefore implements the schemes go-pkcs12 reads: PBES1 with SHA-1 and
// 3DES, 128-bit or 40-bit RC2, and PBES2 with PBKDF2 (HMAC-SHA-1, -256 or
// -512) and AES-CBC; MACs with the PKCS#12 KDF (SHA-1, -256, -512) or
// PBMAC1. Anything else is refused as unsupported, as go-pkcs12 would.
//
// A nil result says the decode is bounded, not that the file is valid: the
// MAC is not verified. Errors never include input bytes or the password.
func checkPFXWork(data []byte, password string) error {
	_, err := pfxWork(data, password)
	return err
}

// pfxWork is checkPFXWork, also returning the work charged: the hash
// iterations of every key derivation the check and go-pkcs12 run.
func pfxWork(data []byte, password string) (int64, error) {
	if len(data) > maxPFXSize {
		return 0, pfxError(fmt.Sprintf("larger than %d bytes", maxPFXSize))
	}
	bmp, err := pfxBMPPassword(password)
	if err != nil {
		return 0, err
	}
	c := &pfxChecker{bmp: bmp, utf8: string([]rune(password)), emptyPassword: password == ""}

	var pfx pfxPDU
	if !pfxUnmarshal(data, &pfx) {
		return 0, pfxError("malformed PFX")
	}
	if pfx.Version != 3 {
		return 0, pfxError("unsupported PFX version")
	}
	if !pfx.AuthSafe.ContentType.Equal(oidPKCS7Data) {
		return 0, pfxError("unsupported integrity mode (only password integrity is supported)")
	}
	authSafe, ok := pfxExplicitOctets(pfx.AuthSafe.Content)
	if !ok {
		return 0, pfxError("malformed authenticated safe")
	}
	if len(pfx.MacData.FullBytes) > 0 {
		if err := c.checkMAC(pfx.MacData.FullBytes); err != nil {
			return 0, err
		}
	}
	contents, err := pfxSequence(authSafe, maxPFXContents, "contents")
	if err != nil {
		return 0, err
	}

	// First everything visible: plain contents, and the parameters of the
	// encrypted ones (go-pkcs12 will decrypt each once).
	type sealed struct {
		pbe *pfxPBE
		ct  []byte
	}
	var encrypted []sealed
	for _, raw := range contents {
		var ci pfxContentInfo
		if !pfxUnmarshal(raw.FullBytes, &ci) {
			return 0, pfxError("malformed content")
		}
		switch {
		case ci.ContentType.Equal(oidPKCS7Data):
			safe, ok := pfxExplicitOctets(ci.Content)
			if !ok {
				return 0, pfxError("malformed data content")
			}
			if err := c.checkBags(safe); err != nil {
				return 0, err
			}
		case ci.ContentType.Equal(oidPKCS7EncryptedData):
			var ed pfxEncryptedData
			if !pfxExplicit(ci.Content) || !pfxUnmarshal(ci.Content.Bytes, &ed) {
				return 0, pfxError("malformed encryptedData content")
			}
			if ed.Version != 0 {
				return 0, pfxError("unsupported encryptedData version")
			}
			pbe, err := parsePFXPBE(ed.EncryptedContentInfo.Algorithm, "encryptedData")
			if err != nil {
				return 0, err
			}
			if err := c.charge(pbe.cost()); err != nil {
				return 0, err
			}
			encrypted = append(encrypted, sealed{pbe, ed.EncryptedContentInfo.EncryptedContent})
		default:
			return 0, pfxError("unsupported content type (only data and encryptedData are supported)")
		}
	}

	// Then the bags inside each encrypted content, decrypted here.
	for _, e := range encrypted {
		safe, err := c.decryptContent(e.pbe, e.ct)
		if err != nil {
			return 0, err
		}
		if err := c.checkBags(safe); err != nil {
			return 0, err
		}
	}
	return c.work, nil
}

func pfxError(why string) error { return errors.New("PKCS#12 file: " + why) }

var errPFXDecrypt = pfxError("cannot decrypt an encrypted content (wrong password or damaged file)")

// pfxChecker carries the passwords and the running totals of one check.
type pfxChecker struct {
	bmp           []byte // BMPString with terminator, for PBES1
	utf8          string // for PBES2
	emptyPassword bool   // go-pkcs12 then also tries an absent password
	work          int64  // hash iterations charged so far
	bags          int
}

// charge adds n hash iterations to the file's total. Every derivation is
// charged before it runs, whoever runs it.
func (c *pfxChecker) charge(n int64) error {
	c.work += n
	if c.work > maxPFXWork {
		return pfxError(fmt.Sprintf("asks for more than %d key-derivation iterations in total", maxPFXWork))
	}
	return nil
}

func (c *pfxChecker) checkMAC(der []byte) error {
	var md pfxMacData
	if !pfxUnmarshal(der, &md) {
		return pfxError("malformed MAC data")
	}
	alg := md.Mac.Algorithm.Algorithm
	var cost int64
	switch {
	case alg.Equal(oidSHA1), alg.Equal(oidSHA256), alg.Equal(oidSHA512):
		// The PKCS#12 KDF derives one hash-sized key.
		if err := pfxCheckCount(md.Iterations, "MAC"); err != nil {
			return err
		}
		if len(md.MacSalt) > maxPFXSalt {
			return pfxError("MAC salt too long")
		}
		cost = int64(md.Iterations)
	case alg.Equal(oidPBMAC1):
		// RFC 9579: all parameters are in the algorithm's; macData's salt
		// and iteration count are ignored.
		var p pfxPBMAC1Params
		if !pfxUnmarshal(md.Mac.Algorithm.Parameters.FullBytes, &p) {
			return pfxError("malformed PBMAC1 parameters")
		}
		if !p.MAC.Algorithm.Equal(oidHMACSHA1) && !p.MAC.Algorithm.Equal(oidHMACSHA256) && !p.MAC.Algorithm.Equal(oidHMACSHA512) {
			return pfxError("unsupported PBMAC1 MAC algorithm")
		}
		kdf, err := parsePFXPBKDF2(p.KDF, "PBMAC1")
		if err != nil {
			return err
		}
		if kdf.KeyLength < 1 || kdf.KeyLength > 64 {
			return pfxError("PBMAC1 key length out of range 1..64")
		}
		cost = pfxBlocks(kdf.KeyLength, kdf.prf().Size()) * int64(kdf.Iterations)
	default:
		return pfxError("unsupported MAC algorithm")
	}
	if c.emptyPassword { // go-pkcs12 retries a failed MAC with no password
		cost *= 2
	}
	return c.charge(cost)
}

// checkBags checks one SafeContents and counts its bags. The shrouded key
// bags are charged for go-pkcs12's decryption of them.
func (c *pfxChecker) checkBags(der []byte) error {
	bags, err := pfxSequence(der, maxPFXBags-c.bags, "bags")
	if err != nil {
		return err
	}
	c.bags += len(bags)
	for _, raw := range bags {
		var bag pfxSafeBag
		if !pfxUnmarshal(raw.FullBytes, &bag) || !pfxExplicit(bag.Value) {
			return pfxError("malformed bag")
		}
		switch {
		case bag.ID.Equal(oidShroudedKeyBag):
			var info pfxEncryptedKeyInfo
			if !pfxUnmarshal(bag.Value.Bytes, &info) {
				return pfxError("malformed shrouded key bag")
			}
			pbe, err := parsePFXPBE(info.Algorithm, "shrouded key bag")
			if err != nil {
				return err
			}
			if err := c.charge(pbe.cost()); err != nil {
				return err
			}
		case bag.ID.Equal(oidSafeContentsBag):
			return pfxError("nested safe contents are not supported")
		case bag.ID.Equal(oidKeyBag), bag.ID.Equal(oidCertBag), bag.ID.Equal(oidCRLBag), bag.ID.Equal(oidSecretBag):
			// No key derivation.
		default:
			return pfxError("unknown bag type")
		}
	}
	return nil
}

// decryptContent decrypts an encryptedData content, charging the
// derivation first. With an empty password it also tries the absent one,
// as go-pkcs12 may.
func (c *pfxChecker) decryptContent(pbe *pfxPBE, ct []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%pbe.blockSize != 0 {
		return nil, pfxError("encrypted content is not a whole number of blocks")
	}
	passwords := [][]byte{c.bmp}
	if c.emptyPassword && !pbe.pbes2 {
		passwords = append(passwords, nil)
	}
	for _, pw := range passwords {
		if err := c.charge(pbe.cost()); err != nil {
			return nil, err
		}
		pt, err := pbe.decrypt(ct, pw, c.utf8)
		if err != nil {
			return nil, err
		}
		if pt != nil && pfxIsSequence(pt) {
			return pt, nil
		}
	}
	return nil, errPFXDecrypt
}

// pfxPBE is one password-based encryption scheme with checked parameters.
type pfxPBE struct {
	pbes2      bool
	newHash    func() hash.Hash // the PKCS#12 KDF's hash or PBKDF2's PRF
	salt       []byte
	iterations int
	keyLen     int
	blockSize  int
	iv         []byte // PBES2 only; PBES1 derives it
	newCipher  func(key []byte) (cipher.Block, error)
}

// cost is the derivation work in hash iterations.
func (p *pfxPBE) cost() int64 {
	u := p.newHash().Size()
	blocks := pfxBlocks(p.keyLen, u)
	if !p.pbes2 {
		blocks += pfxBlocks(p.blockSize, u) // the IV
	}
	return blocks * int64(p.iterations)
}

// decrypt derives the key and decrypts ct (a whole number of blocks). It
// returns nil and no error when the padding is wrong.
func (p *pfxPBE) decrypt(ct, bmpPassword []byte, utf8Password string) ([]byte, error) {
	var key, iv []byte
	if p.pbes2 {
		var err error
		if key, err = pbkdf2.Key(p.newHash, utf8Password, p.salt, p.iterations, p.keyLen); err != nil {
			return nil, errPFXDecrypt
		}
		iv = p.iv
	} else {
		key = pkcs12KDF(p.newHash, 1, p.salt, bmpPassword, p.iterations, p.keyLen)
		iv = pkcs12KDF(p.newHash, 2, p.salt, bmpPassword, p.iterations, p.blockSize)
	}
	block, err := p.newCipher(key)
	if err != nil || block.BlockSize() != p.blockSize || len(iv) != p.blockSize {
		return nil, errPFXDecrypt
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > p.blockSize {
		return nil, nil
	}
	for _, b := range pt[len(pt)-n:] {
		if int(b) != n {
			return nil, nil
		}
	}
	return pt[:len(pt)-n], nil
}

// parsePFXPBE checks the algorithm of an encrypted content or shrouded key
// bag: a scheme go-pkcs12 supports, with bounded parameters.
func parsePFXPBE(alg pkix.AlgorithmIdentifier, what string) (*pfxPBE, error) {
	if alg.Algorithm.Equal(oidPBES2) {
		return parsePFXPBES2(alg, what)
	}
	p := &pfxPBE{newHash: sha1.New, blockSize: 8}
	switch {
	case alg.Algorithm.Equal(oidPBEWithSHA1And3DES):
		p.keyLen, p.newCipher = 24, des.NewTripleDESCipher
	case alg.Algorithm.Equal(oidPBEWithSHA1And128RC2):
		p.keyLen, p.newCipher = 16, newRC2Cipher
	case alg.Algorithm.Equal(oidPBEWithSHA1And40RC2):
		p.keyLen, p.newCipher = 5, newRC2Cipher
	default:
		return nil, pfxError(what + ": unsupported encryption scheme (use PBES2 with AES, or PBE-SHA1-3DES)")
	}
	var params pfxPBES1Params
	if !pfxUnmarshal(alg.Parameters.FullBytes, &params) {
		return nil, pfxError(what + ": malformed PBE parameters")
	}
	if err := pfxCheckCount(params.Iterations, what+" PBE"); err != nil {
		return nil, err
	}
	if len(params.Salt) > maxPFXSalt {
		return nil, pfxError(what + ": PBE salt too long")
	}
	p.salt, p.iterations = params.Salt, params.Iterations
	return p, nil
}

func parsePFXPBES2(alg pkix.AlgorithmIdentifier, what string) (*pfxPBE, error) {
	var params pfxPBES2Params
	if !pfxUnmarshal(alg.Parameters.FullBytes, &params) {
		return nil, pfxError(what + ": malformed PBES2 parameters")
	}
	keyLen, ok := pfxAESKeySizes[params.Cipher.Algorithm.String()]
	if !ok {
		return nil, pfxError(what + ": unsupported PBES2 cipher (use AES-CBC)")
	}
	var iv []byte
	if !pfxUnmarshal(params.Cipher.Parameters.FullBytes, &iv) || len(iv) != aes.BlockSize {
		return nil, pfxError(what + ": malformed PBES2 IV")
	}
	kdf, err := parsePFXPBKDF2(params.KDF, what)
	if err != nil {
		return nil, err
	}
	return &pfxPBE{
		pbes2: true, newHash: kdf.prf, salt: kdf.Salt.Bytes, iterations: kdf.Iterations,
		keyLen: keyLen, blockSize: aes.BlockSize, iv: iv, newCipher: aes.NewCipher,
	}, nil
}

type pfxPBKDF2 struct {
	pfxPBKDF2Params
	prf func() hash.Hash
}

// parsePFXPBKDF2 checks a PBES2 or PBMAC1 key derivation: PBKDF2 (scrypt
// and the rest are refused, as go-pkcs12 refuses them) with a known PRF,
// an octet-string salt and a bounded iteration count.
func parsePFXPBKDF2(alg pkix.AlgorithmIdentifier, what string) (*pfxPBKDF2, error) {
	if !alg.Algorithm.Equal(oidPBKDF2) {
		return nil, pfxError(what + ": unsupported key derivation function (use PBKDF2)")
	}
	var p pfxPBKDF2Params
	if !pfxUnmarshal(alg.Parameters.FullBytes, &p) {
		return nil, pfxError(what + ": malformed PBKDF2 parameters")
	}
	if p.Salt.Class != asn1.ClassUniversal || p.Salt.Tag != asn1.TagOctetString || p.Salt.IsCompound {
		return nil, pfxError(what + ": unsupported PBKDF2 salt (only an octet string is supported)")
	}
	if len(p.Salt.Bytes) > maxPFXSalt {
		return nil, pfxError(what + ": PBKDF2 salt too long")
	}
	if err := pfxCheckCount(p.Iterations, what+" PBKDF2"); err != nil {
		return nil, err
	}
	var h func() hash.Hash
	switch prf := p.PRF.Algorithm; {
	case prf == nil, prf.Equal(oidHMACSHA1):
		h = sha1.New
	case prf.Equal(oidHMACSHA256):
		h = sha256.New
	case prf.Equal(oidHMACSHA512):
		h = sha512.New
	default:
		return nil, pfxError(what + ": unsupported PBKDF2 PRF (use HMAC-SHA-256)")
	}
	return &pfxPBKDF2{p, h}, nil
}

func pfxCheckCount(n int, what string) error {
	if n < 1 || n > maxPFXIterations {
		return pfxError(fmt.Sprintf("%s iteration count out of range 1..%d", what, maxPFXIterations))
	}
	return nil
}

// pfxBlocks is the number of u-byte hash outputs needed for n bytes.
func pfxBlocks(n, u int) int64 { return int64((n + u - 1) / u) }

// pfxBMPPassword encodes password as go-pkcs12 does for PBES1 and the MAC:
// a BMPString (big-endian UCS-2) with a zero terminator.
func pfxBMPPassword(password string) ([]byte, error) {
	out := make([]byte, 0, 2*len(password)+2)
	for _, r := range password {
		if r > 0xFFFF {
			return nil, pfxError("password has characters outside the Basic Multilingual Plane")
		}
		out = binary.BigEndian.AppendUint16(out, uint16(r))
	}
	return append(out, 0, 0), nil
}

// pfxUnmarshal decodes all of der into v.
func pfxUnmarshal(der []byte, v any) bool {
	rest, err := asn1.Unmarshal(der, v)
	return err == nil && len(rest) == 0
}

// pfxExplicit reports whether v is a constructed [0], the wrapper of an
// EXPLICIT field.
func pfxExplicit(v asn1.RawValue) bool {
	return v.Class == asn1.ClassContextSpecific && v.Tag == 0 && v.IsCompound
}

// pfxExplicitOctets returns the OCTET STRING inside a [0] EXPLICIT field.
func pfxExplicitOctets(v asn1.RawValue) ([]byte, bool) {
	var octets []byte
	if !pfxExplicit(v) || !pfxUnmarshal(v.Bytes, &octets) {
		return nil, false
	}
	return octets, true
}

func pfxIsSequence(der []byte) bool {
	var v asn1.RawValue
	return pfxUnmarshal(der, &v) && v.Class == asn1.ClassUniversal && v.Tag == asn1.TagSequence && v.IsCompound
}

// pfxSequence returns the elements of the SEQUENCE der, refusing more than
// max of them.
func pfxSequence(der []byte, max int, what string) ([]asn1.RawValue, error) {
	var seq asn1.RawValue
	if !pfxUnmarshal(der, &seq) || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return nil, pfxError("malformed " + what)
	}
	var out []asn1.RawValue
	for rest := seq.Bytes; len(rest) > 0; {
		if len(out) >= max {
			return nil, pfxError(fmt.Sprintf("too many %s", what))
		}
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			return nil, pfxError("malformed " + what)
		}
		out = append(out, e)
	}
	return out, nil
}

// pkcs12KDF is the key derivation of RFC 7292 Appendix B.2: size bytes for
// purpose id (1 key, 2 IV, 3 MAC key) from salt and a BMPString password,
// with iterations rounds of the hash newHash.
func pkcs12KDF(newHash func() hash.Hash, id byte, salt, password []byte, iterations, size int) []byte {
	h := newHash()
	u, v := h.Size(), h.BlockSize()
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	// I = S || P, each repeated to a whole number of v-byte blocks.
	stretch := func(b []byte) []byte {
		out := make([]byte, (len(b)+v-1)/v*v)
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	in := append(stretch(salt), stretch(password)...)
	out := make([]byte, 0, size+u)
	a := make([]byte, 0, u)
	b := make([]byte, v)
	for {
		h.Reset()
		h.Write(d)
		h.Write(in)
		a = h.Sum(a[:0])
		for range iterations - 1 {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			return out[:size]
		}
		// I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block I_j of I,
		// where B is A repeated to v bytes.
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			carry := uint(1)
			for k := v - 1; k >= 0; k-- {
				s := uint(in[j+k]) + uint(b[k]) + carry
				in[j+k], carry = byte(s), s>>8
			}
		}
	}
}

// rc2PITable is PITABLE of RFC 2268 section 2, the permutation of 0..255
// derived from the digits of pi.
var rc2PITable = [256]byte{
	0xd9, 0x78, 0xf9, 0xc4, 0x19, 0xdd, 0xb5, 0xed, 0x28, 0xe9, 0xfd, 0x79, 0x4a, 0xa0, 0xd8, 0x9d,
	0xc6, 0x7e, 0x37, 0x83, 0x2b, 0x76, 0x53, 0x8e, 0x62, 0x4c, 0x64, 0x88, 0x44, 0x8b, 0xfb, 0xa2,
	0x17, 0x9a, 0x59, 0xf5, 0x87, 0xb3, 0x4f, 0x13, 0x61, 0x45, 0x6d, 0x8d, 0x09, 0x81, 0x7d, 0x32,
	0xbd, 0x8f, 0x40, 0xeb, 0x86, 0xb7, 0x7b, 0x0b, 0xf0, 0x95, 0x21, 0x22, 0x5c, 0x6b, 0x4e, 0x82,
	0x54, 0xd6, 0x65, 0x93, 0xce, 0x60, 0xb2, 0x1c, 0x73, 0x56, 0xc0, 0x14, 0xa7, 0x8c, 0xf1, 0xdc,
	0x12, 0x75, 0xca, 0x1f, 0x3b, 0xbe, 0xe4, 0xd1, 0x42, 0x3d, 0xd4, 0x30, 0xa3, 0x3c, 0xb6, 0x26,
	0x6f, 0xbf, 0x0e, 0xda, 0x46, 0x69, 0x07, 0x57, 0x27, 0xf2, 0x1d, 0x9b, 0xbc, 0x94, 0x43, 0x03,
	0xf8, 0x11, 0xc7, 0xf6, 0x90, 0xef, 0x3e, 0xe7, 0x06, 0xc3, 0xd5, 0x2f, 0xc8, 0x66, 0x1e, 0xd7,
	0x08, 0xe8, 0xea, 0xde, 0x80, 0x52, 0xee, 0xf7, 0x84, 0xaa, 0x72, 0xac, 0x35, 0x4d, 0x6a, 0x2a,
	0x96, 0x1a, 0xd2, 0x71, 0x5a, 0x15, 0x49, 0x74, 0x4b, 0x9f, 0xd0, 0x5e, 0x04, 0x18, 0xa4, 0xec,
	0xc2, 0xe0, 0x41, 0x6e, 0x0f, 0x51, 0xcb, 0xcc, 0x24, 0x91, 0xaf, 0x50, 0xa1, 0xf4, 0x70, 0x39,
	0x99, 0x7c, 0x3a, 0x85, 0x23, 0xb8, 0xb4, 0x7a, 0xfc, 0x02, 0x36, 0x5b, 0x25, 0x55, 0x97, 0x31,
	0x2d, 0x5d, 0xfa, 0x98, 0xe3, 0x8a, 0x92, 0xae, 0x05, 0xdf, 0x29, 0x10, 0x67, 0x6c, 0xba, 0xc9,
	0xd3, 0x00, 0xe6, 0xcf, 0xe1, 0x9e, 0xa8, 0x2c, 0x63, 0x16, 0x01, 0x3f, 0x58, 0xe2, 0x89, 0xa9,
	0x0d, 0x38, 0x34, 0x1b, 0xab, 0x33, 0xff, 0xb0, 0xbb, 0x48, 0x0c, 0x5f, 0xb9, 0xb1, 0xcd, 0x2e,
	0xc5, 0xf3, 0xdb, 0x47, 0xe5, 0xa5, 0x9c, 0x77, 0x0a, 0xa6, 0x20, 0x68, 0xfe, 0x7f, 0xc1, 0xad,
}

// rc2Cipher is RC2 (RFC 2268), which PKCS#12 files from OpenSSL's
// -legacy mode and older Java use for certificates. Only decryption is
// needed; Encrypt exists to satisfy cipher.Block and to test against the
// RFC's vectors.
type rc2Cipher struct{ k [64]uint16 }

// newRC2Cipher expands key with an effective key length of 8*len(key)
// bits, as PKCS#12's RC2 schemes use it.
func newRC2Cipher(key []byte) (cipher.Block, error) {
	return newRC2(key, 8*len(key))
}

func newRC2(key []byte, effectiveBits int) (*rc2Cipher, error) {
	t := len(key)
	if t < 1 || t > 128 || effectiveBits < 1 || effectiveBits > 1024 {
		return nil, errors.New("rc2: invalid key size")
	}
	var l [128]byte
	copy(l[:], key)
	for i := t; i < 128; i++ {
		l[i] = rc2PITable[l[i-1]+l[i-t]]
	}
	t8 := (effectiveBits + 7) / 8
	tm := byte(0xff >> (8*t8 - effectiveBits))
	l[128-t8] = rc2PITable[l[128-t8]&tm]
	for i := 127 - t8; i >= 0; i-- {
		l[i] = rc2PITable[l[i+1]^l[i+t8]]
	}
	c := &rc2Cipher{}
	for i := range c.k {
		c.k[i] = binary.LittleEndian.Uint16(l[2*i:])
	}
	return c, nil
}

func (c *rc2Cipher) BlockSize() int { return 8 }

func (c *rc2Cipher) Encrypt(dst, src []byte) {
	r0, r1, r2, r3 := binary.LittleEndian.Uint16(src), binary.LittleEndian.Uint16(src[2:]), binary.LittleEndian.Uint16(src[4:]), binary.LittleEndian.Uint16(src[6:])
	j := 0
	mix := func() {
		r0 = bits.RotateLeft16(r0+c.k[j]+(r3&r2)+(^r3&r1), 1)
		r1 = bits.RotateLeft16(r1+c.k[j+1]+(r0&r3)+(^r0&r2), 2)
		r2 = bits.RotateLeft16(r2+c.k[j+2]+(r1&r0)+(^r1&r3), 3)
		r3 = bits.RotateLeft16(r3+c.k[j+3]+(r2&r1)+(^r2&r0), 5)
		j += 4
	}
	mash := func() {
		r0 += c.k[r3&63]
		r1 += c.k[r0&63]
		r2 += c.k[r1&63]
		r3 += c.k[r2&63]
	}
	for _, rounds := range []int{5, 6, 5} {
		if j > 0 {
			mash()
		}
		for range rounds {
			mix()
		}
	}
	binary.LittleEndian.PutUint16(dst, r0)
	binary.LittleEndian.PutUint16(dst[2:], r1)
	binary.LittleEndian.PutUint16(dst[4:], r2)
	binary.LittleEndian.PutUint16(dst[6:], r3)
}

func (c *rc2Cipher) Decrypt(dst, src []byte) {
	r0, r1, r2, r3 := binary.LittleEndian.Uint16(src), binary.LittleEndian.Uint16(src[2:]), binary.LittleEndian.Uint16(src[4:]), binary.LittleEndian.Uint16(src[6:])
	j := 63
	unmix := func() {
		r3 = bits.RotateLeft16(r3, -5) - c.k[j] - (r2 & r1) - (^r2 & r0)
		r2 = bits.RotateLeft16(r2, -3) - c.k[j-1] - (r1 & r0) - (^r1 & r3)
		r1 = bits.RotateLeft16(r1, -2) - c.k[j-2] - (r0 & r3) - (^r0 & r2)
		r0 = bits.RotateLeft16(r0, -1) - c.k[j-3] - (r3 & r2) - (^r3 & r1)
		j -= 4
	}
	unmash := func() {
		r3 -= c.k[r2&63]
		r2 -= c.k[r1&63]
		r1 -= c.k[r0&63]
		r0 -= c.k[r3&63]
	}
	for _, rounds := range []int{5, 6, 5} {
		if j < 63 {
			unmash()
		}
		for range rounds {
			unmix()
		}
	}
	binary.LittleEndian.PutUint16(dst, r0)
	binary.LittleEndian.PutUint16(dst[2:], r1)
	binary.LittleEndian.PutUint16(dst[4:], r2)
	binary.LittleEndian.PutUint16(dst[6:], r3)
}
