using System;
using System.Collections.Generic;
using System.Numerics;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>Thrown for unreadable key material; messages never contain key bytes.</summary>
    internal sealed class KeyException : Exception
    {
        internal readonly bool Passphrase;
        internal KeyException(string m, bool passphrase = false) : base(m) { Passphrase = passphrase; }
    }

    /// <summary>
    /// Private keys, only as far as the loader needs them: to check that a key file belongs to a
    /// certificate (its public key is derived and compared). The private scalar is dropped as
    /// soon as the public key is known.
    /// </summary>
    internal static class Keys
    {
        /// <summary>The public key of the first PKCS#8 key in PEM data (decrypted with passphrase).</summary>
        internal static PublicKeyInfo PublicOfPem(byte[] pem, byte[] passphrase)
        {
            foreach (var b in Pem.Blocks(pem))
            {
                switch (b.Type)
                {
                    case "PRIVATE KEY":
                        return PublicOfPkcs8(b.Der);
                    case "ENCRYPTED PRIVATE KEY":
                        if (passphrase == null || passphrase.Length == 0)
                            throw new KeyException("wrong or missing passphrase for encrypted private key", true);
                        var plain = DecryptPbes2(b.Der, passphrase);
                        try { return PublicOfPkcs8(plain); }
                        catch (KeyException) { throw new KeyException("wrong or missing passphrase for encrypted private key", true); }
                        finally { Array.Clear(plain, 0, plain.Length); }
                    case "RSA PRIVATE KEY":
                    case "EC PRIVATE KEY":
                        throw new KeyException("no PKCS#8 private key found: found a \"" + b.Type + "\" block; convert it to PKCS#8");
                }
            }
            throw new KeyException("no PKCS#8 private key found");
        }

        /// <summary>Derives the public key of an unencrypted PKCS#8 private key.</summary>
        internal static PublicKeyInfo PublicOfPkcs8(byte[] der)
        {
            try
            {
                var info = Der.ParseOne(der).Children();
                info.Next(Der.Integer);
                var alg = info.Next(Der.Sequence).Children();
                string oid = alg.Next().OidString();
                string param = alg.More && alg.PeekTag == Der.Oid ? alg.Next().OidString() : null;
                var priv = info.Next(Der.OctetString).Content();
                switch (oid)
                {
                    case "1.2.840.10045.2.1":
                        {
                            var ec = Der.ParseOne(priv).Children();
                            ec.Next(Der.Integer);
                            var d = Crypto.FromBigEndianUnsigned(ec.Next(Der.OctetString).Content());
                            while (ec.More)
                            {
                                var e = ec.Next();
                                if (e.Tag == 0xa0 && param == null) param = e.Children().Next().OidString();
                            }
                            var curve = Crypto.CurveByOid(param);
                            if (curve == null) throw new KeyException("unsupported EC curve");
                            BigInteger x, y;
                            if (d.Sign <= 0 || d >= curve.N || !Crypto.EcPublic(curve, d, out x, out y)) throw new KeyException("malformed PKCS#8 private key");
                            return new PublicKeyInfo { Kind = "EC", Curve = curve, X = x, Y = y };
                        }
                    case "1.2.840.113549.1.1.1":
                        {
                            var rsa = Der.ParseOne(priv).Children();
                            rsa.Next(Der.Integer);
                            var n = rsa.Next().Int();
                            var e = rsa.Next().Int();
                            return new PublicKeyInfo { Kind = "RSA", N = n, E = e };
                        }
                    case "1.3.101.112":
                        {
                            var seed = Der.ParseOne(priv).Content();
                            if (seed.Length != 32) throw new KeyException("malformed PKCS#8 private key");
                            var pub = Crypto.Ed25519Public(seed);
                            Array.Clear(seed, 0, seed.Length);
                            return new PublicKeyInfo { Kind = "Ed25519", Ed = pub };
                        }
                }
                throw new KeyException("unsupported private key algorithm " + oid);
            }
            catch (Der.DerException) { throw new KeyException("malformed PKCS#8 private key"); }
        }

        const int MaxPbkdf2Iterations = 2000000;

        /// <summary>PBES2 (PBKDF2 + AES-CBC or DES-EDE3-CBC) decryption of an EncryptedPrivateKeyInfo.</summary>
        internal static byte[] DecryptPbes2(byte[] der, byte[] password)
        {
            try
            {
                var top = Der.ParseOne(der).Children();
                var alg = top.Next(Der.Sequence);
                var data = top.Next(Der.OctetString).Content();
                return DecryptPbes2(alg, data, password);
            }
            catch (Der.DerException) { throw new KeyException("encrypted private key: malformed structure"); }
        }

        /// <summary>PBES2 decryption of data with the algorithm identifier alg.</summary>
        internal static byte[] DecryptPbes2(Der.Element algId, byte[] data, byte[] password)
        {
            try
            {
                var alg = algId.Children();
                if (alg.Next().OidString() != "1.2.840.113549.1.5.13")
                    throw new KeyException("encrypted private key: unsupported encryption scheme (only PBES2 is supported)");
                var p = alg.Next(Der.Sequence).Children();
                var kdf = p.Next(Der.Sequence).Children();
                var cipher = p.Next(Der.Sequence).Children();
                if (kdf.Next().OidString() != "1.2.840.113549.1.5.12")
                    throw new KeyException("encrypted private key: unsupported key derivation function (use PBKDF2)");
                var kp = kdf.Next(Der.Sequence).Children();
                var salt = kp.Next(Der.OctetString).Content();
                var it = kp.Next().Int();
                if (kp.More && kp.PeekTag == Der.Integer) kp.Next();
                string prf = "SHA1";
                if (kp.More)
                {
                    switch (kp.Next(Der.Sequence).Children().Next().OidString())
                    {
                        case "1.2.840.113549.2.7": prf = "SHA1"; break;
                        case "1.2.840.113549.2.9": prf = "SHA256"; break;
                        case "1.2.840.113549.2.10": prf = "SHA384"; break;
                        case "1.2.840.113549.2.11": prf = "SHA512"; break;
                        default: throw new KeyException("encrypted private key: unsupported PRF");
                    }
                }
                if (it < 1 || it > MaxPbkdf2Iterations)
                    throw new KeyException("encrypted private key: PBKDF2 iteration count out of range 1.." + MaxPbkdf2Iterations);
                string cipherOid = cipher.Next().OidString();
                var iv = cipher.Next(Der.OctetString).Content();
                string name; int keyLen, block;
                switch (cipherOid)
                {
                    case "2.16.840.1.101.3.4.1.2": name = "AES"; keyLen = 16; block = 16; break;
                    case "2.16.840.1.101.3.4.1.22": name = "AES"; keyLen = 24; block = 16; break;
                    case "2.16.840.1.101.3.4.1.42": name = "AES"; keyLen = 32; block = 16; break;
                    case "1.2.840.113549.3.7": name = "3DES"; keyLen = 24; block = 8; break;
                    default: throw new KeyException("encrypted private key: unsupported cipher (use AES-CBC or DES-EDE3-CBC)");
                }
                if (iv.Length != block) throw new KeyException("encrypted private key: malformed cipher IV");
                if (data.Length == 0 || data.Length % block != 0)
                    throw new KeyException("encrypted private key: ciphertext is not a whole number of blocks");
                var key = Crypto.Pbkdf2(prf, password, salt, (int)it, keyLen);
                try
                {
                    var plain = Crypto.CbcDecrypt(name, key, iv, data);
                    if (plain == null) throw new KeyException("wrong or missing passphrase for encrypted private key", true);
                    return plain;
                }
                catch (System.Security.Cryptography.CryptographicException)
                {
                    throw new KeyException("wrong or missing passphrase for encrypted private key", true);
                }
                finally { Array.Clear(key, 0, key.Length); }
            }
            catch (Der.DerException) { throw new KeyException("encrypted private key: malformed structure"); }
        }

        // ---- JKS -------------------------------------------------------------------------------

        /// <summary>What a Java KeyStore (JKS) holds: key entries (public key + chain) and trusted certificates.</summary>
        internal sealed class Store
        {
            internal readonly List<KeyValuePair<PublicKeyInfo, List<Cert>>> KeyEntries = new List<KeyValuePair<PublicKeyInfo, List<Cert>>>();
            internal readonly List<Cert> Trusted = new List<Cert>();
        }

        static byte[] Utf16Be(string s)
        {
            var b = new byte[s.Length * 2];
            for (int i = 0; i < s.Length; i++) { b[2 * i] = (byte)(s[i] >> 8); b[2 * i + 1] = (byte)s[i]; }
            return b;
        }

        sealed class Reader
        {
            readonly byte[] b; int p;
            internal Reader(byte[] b) { this.b = b; }
            internal int Pos { get { return p; } }
            void Need(int n) { if (n < 0 || p + n > b.Length) throw new KeyException("truncated key store"); }
            internal int I32() { Need(4); int v = b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3]; p += 4; return v; }
            internal int U16() { Need(2); int v = b[p] << 8 | b[p + 1]; p += 2; return v; }
            internal byte[] Bytes(int n) { Need(n); var o = new byte[n]; Array.Copy(b, p, o, 0, n); p += n; return o; }
            internal string Utf() { return Encoding.UTF8.GetString(Bytes(U16())); }
        }

        /// <summary>
        /// Opens a JKS store with its password: the integrity digest must match (else the
        /// password is wrong or the file corrupt), and key entries are decrypted with the same
        /// password (the JKS key protector) to derive their public keys.
        /// </summary>
        internal static Store OpenJks(byte[] data, string password)
        {
            if (data.Length < 32) throw new KeyException("not a JKS key store");
            var pw = Utf16Be(password);
            var whole = new byte[pw.Length + 16 + data.Length - 20];
            Array.Copy(pw, whole, pw.Length);
            Encoding.UTF8.GetBytes("Mighty Aphrodite").CopyTo(whole, pw.Length);
            Array.Copy(data, 0, whole, pw.Length + 16, data.Length - 20);
            var digest = Crypto.Hash("SHA1", whole);
            for (int i = 0; i < 20; i++)
                if (digest[i] != data[data.Length - 20 + i]) throw new KeyException("key store password is wrong or the file is corrupt");
            var r = new Reader(data);
            if ((uint)r.I32() != 0xFEEDFEED) throw new KeyException("not a JKS key store");
            int version = r.I32();
            if (version != 1 && version != 2) throw new KeyException("unsupported JKS version");
            int count = r.I32();
            if (count < 0 || count > 1000) throw new KeyException("malformed key store");
            var st = new Store();
            for (int i = 0; i < count; i++)
            {
                int tag = r.I32();
                r.Utf();
                r.Bytes(8);
                if (tag == 1)
                {
                    var epki = r.Bytes(r.I32());
                    int n = r.I32();
                    if (n < 0 || n > 16) throw new KeyException("malformed key store");
                    var chain = new List<Cert>();
                    for (int j = 0; j < n; j++)
                    {
                        if (version == 2) r.Utf();
                        chain.Add(Cert.Parse(r.Bytes(r.I32())));
                    }
                    st.KeyEntries.Add(new KeyValuePair<PublicKeyInfo, List<Cert>>(JksKeyPublic(epki, pw), chain));
                }
                else if (tag == 2)
                {
                    if (version == 2) r.Utf();
                    st.Trusted.Add(Cert.Parse(r.Bytes(r.I32())));
                }
                else throw new KeyException("malformed key store");
            }
            return st;
        }

        static PublicKeyInfo JksKeyPublic(byte[] epki, byte[] pw)
        {
            byte[] enc;
            try
            {
                var top = Der.ParseOne(epki).Children();
                var alg = top.Next(Der.Sequence).Children().Next().OidString();
                if (alg != "1.3.6.1.4.1.42.2.17.1.1") throw new KeyException("unsupported JKS key protection");
                enc = top.Next(Der.OctetString).Content();
            }
            catch (Der.DerException) { throw new KeyException("malformed key store"); }
            if (enc.Length < 41) throw new KeyException("malformed key store");
            int len = enc.Length - 40;
            var salt = new byte[20];
            Array.Copy(enc, salt, 20);
            var plain = new byte[len];
            var d = salt;
            for (int off = 0; off < len; off += 20)
            {
                var inp = new byte[pw.Length + 20];
                Array.Copy(pw, inp, pw.Length);
                Array.Copy(d, 0, inp, pw.Length, 20);
                d = Crypto.Hash("SHA1", inp);
                for (int i = 0; i < 20 && off + i < len; i++) plain[off + i] = (byte)(enc[20 + off + i] ^ d[i]);
            }
            var chk = new byte[pw.Length + len];
            Array.Copy(pw, chk, pw.Length);
            Array.Copy(plain, 0, chk, pw.Length, len);
            var want = Crypto.Hash("SHA1", chk);
            for (int i = 0; i < 20; i++)
                if (want[i] != enc[enc.Length - 20 + i]) throw new KeyException("key store password is wrong or the file is corrupt");
            try { return PublicOfPkcs8(plain); }
            finally { Array.Clear(plain, 0, plain.Length); }
        }

        // ---- PKCS#12 (PBES2) -------------------------------------------------------------------

        /// <summary>Thrown when a PKCS#12 file uses encryption this reader does not implement.</summary>
        internal sealed class UnsupportedPkcs12 : Exception { internal UnsupportedPkcs12(string m) : base(m) { } }

        /// <summary>
        /// Opens a PKCS#12 file whose bags are PBES2-encrypted (what scbkit writes by default:
        /// PBKDF2-HMAC-SHA256, AES-256-CBC) with password (UTF-8), returning its keys' public
        /// keys and its certificates. The MAC is not checked: a wrong password fails decryption.
        /// Legacy (PKCS#12 PBE, e.g. 3DES) bags give UnsupportedPkcs12.
        /// </summary>
        internal static Store OpenPkcs12(byte[] data, string password)
        {
            var pw = Encoding.UTF8.GetBytes(password);
            var st = new Store();
            var keys = new List<PublicKeyInfo>();
            var certs = new List<Cert>();
            try
            {
                var pfx = Der.ParseOne(data).Children();
                pfx.Next(Der.Integer);
                var authSafe = Data(pfx.Next(Der.Sequence));
                var cis = Der.ParseOne(authSafe).Children();
                while (cis.More)
                {
                    var ci = cis.Next(Der.Sequence);
                    var c = ci.Children();
                    string type = c.Next().OidString();
                    if (type == "1.2.840.113549.1.7.1")
                    {
                        Bags(Data(ci), pw, keys, certs);
                    }
                    else if (type == "1.2.840.113549.1.7.6")
                    {
                        var ed = c.Next().Children().Next(Der.Sequence).Children();
                        ed.Next(Der.Integer);
                        var eci = ed.Next(Der.Sequence).Children();
                        eci.Next();
                        var algId = eci.Next(Der.Sequence);
                        if (algId.Children().Next().OidString() != "1.2.840.113549.1.5.13")
                            throw new UnsupportedPkcs12("PKCS#12 encryption other than PBES2");
                        var content = eci.Next();
                        byte[] enc;
                        if (content.Tag == 0x80) enc = content.Content();
                        else
                        {
                            var parts = content.Children();
                            var all = new List<byte>();
                            while (parts.More) all.AddRange(parts.Next(Der.OctetString).Content());
                            enc = all.ToArray();
                        }
                        var plain = DecryptPbes2(algId, enc, pw);
                        Bags(plain, pw, keys, certs);
                    }
                    else throw new UnsupportedPkcs12("PKCS#12 content type " + type);
                }
            }
            catch (Der.DerException) { throw new KeyException("malformed PKCS#12 file"); }
            foreach (var k in keys)
            {
                var chain = new List<Cert>();
                foreach (var c in certs) if (c.Key != null && c.Key.SameKey(k)) chain.Add(c);
                foreach (var c in certs) if (!chain.Contains(c)) chain.Add(c);
                st.KeyEntries.Add(new KeyValuePair<PublicKeyInfo, List<Cert>>(k, chain));
            }
            st.Trusted.AddRange(certs);
            return st;
        }

        static byte[] Data(Der.Element contentInfo)
        {
            var c = contentInfo.Children();
            if (c.Next().OidString() != "1.2.840.113549.1.7.1") throw new UnsupportedPkcs12("PKCS#12 without data content");
            var explicit0 = c.Next();
            var inner = explicit0.Children().Next();
            if (inner.Tag == Der.OctetString) return inner.Content();
            if (inner.Tag == 0x24)
            {
                var parts = inner.Children();
                var all = new List<byte>();
                while (parts.More) all.AddRange(parts.Next(Der.OctetString).Content());
                return all.ToArray();
            }
            throw new Der.DerException("unexpected content");
        }

        static void Bags(byte[] safeContents, byte[] pw, List<PublicKeyInfo> keys, List<Cert> certs)
        {
            var bags = Der.ParseOne(safeContents).Children();
            while (bags.More)
            {
                var bag = bags.Next(Der.Sequence).Children();
                string id = bag.Next().OidString();
                var value = bag.Next().Children().Next();
                switch (id)
                {
                    case "1.2.840.113549.1.12.10.1.1":
                        keys.Add(PublicOfPkcs8(value.Encoded()));
                        break;
                    case "1.2.840.113549.1.12.10.1.2":
                        {
                            var v = value.Children();
                            var algId = v.Next(Der.Sequence);
                            if (algId.Children().Next().OidString() != "1.2.840.113549.1.5.13")
                                throw new UnsupportedPkcs12("PKCS#12 key encryption other than PBES2");
                            var plain = DecryptPbes2(algId, v.Next(Der.OctetString).Content(), pw);
                            try { keys.Add(PublicOfPkcs8(plain)); }
                            finally { Array.Clear(plain, 0, plain.Length); }
                            break;
                        }
                    case "1.2.840.113549.1.12.10.1.3":
                        {
                            var cb = value.Children();
                            if (cb.Next().OidString() == "1.2.840.113549.1.9.22.1")
                                certs.Add(Cert.Parse(cb.Next().Children().Next(Der.OctetString).Content()));
                            break;
                        }
                }
            }
        }
    }
}
