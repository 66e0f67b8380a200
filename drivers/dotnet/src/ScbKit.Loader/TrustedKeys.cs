using System;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>
    /// Public keys trusted to sign bundles, each identified by its key id (lower-case hex
    /// SHA-256 of the DER SubjectPublicKeyInfo) and optionally valid only in a window (JWKS
    /// nbf/exp). ES256, ES384, EdDSA (pure Ed25519) and PS256 (RSA 3072/4096). A key set comes
    /// from outside the bundle it verifies: a bundle never vouches for itself.
    /// </summary>
    public sealed class TrustedKeys
    {
        /// <summary>The largest key-set input accepted.</summary>
        public const int MaxSize = 1 << 20;

        /// <summary>One trusted key.</summary>
        public sealed class Key
        {
            internal PublicKeyInfo Public;
            /// <summary>The key id.</summary>
            public string KeyId { get; internal set; }
            /// <summary>ES256, ES384, EdDSA or PS256.</summary>
            public string Algorithm { get; internal set; }
            /// <summary>First instant of validity, or null.</summary>
            public DateTime? NotBefore { get; internal set; }
            /// <summary>First instant no longer valid, or null.</summary>
            public DateTime? Expires { get; internal set; }
            /// <summary>Whether t is in NotBefore &lt;= t &lt; Expires.</summary>
            public bool ValidAt(DateTime t) { return (NotBefore == null || t >= NotBefore.Value) && (Expires == null || t < Expires.Value); }
            /// <summary>Algorithm and key id only.</summary>
            public override string ToString() { return "TrustedKeys.Key{" + Algorithm + " " + KeyId + "}"; }
        }

        /// <summary>Thrown for a key set that cannot be parsed or holds unsupported keys.</summary>
        public sealed class KeySetException : Exception { internal KeySetException(string m) : base(m) { } }

        readonly List<Key> keys;

        TrustedKeys(List<Key> keys) { this.keys = keys; }

        /// <summary>The number of keys.</summary>
        public int Count { get { return keys.Count; } }

        /// <summary>The key ids in file order.</summary>
        public IList<string> KeyIds { get { var l = new List<string>(); foreach (var k in keys) l.Add(k.KeyId); return l; } }

        /// <summary>The key with the id, or null.</summary>
        public Key Get(string keyId) { foreach (var k in keys) if (k.KeyId == keyId) return k; return null; }

        /// <summary>Key ids only.</summary>
        public override string ToString() { return "TrustedKeys[" + string.Join(", ", KeyIds) + "]"; }

        /// <summary>Reads a key-set file (see <see cref="Parse"/>).</summary>
        public static TrustedKeys Read(string path)
        {
            var fi = new FileInfo(path);
            if (fi.Exists && fi.Length > MaxSize) throw new KeySetException("malformed key set: larger than " + MaxSize + " bytes");
            try { return Parse(File.ReadAllBytes(path)); }
            catch (KeySetException e) { throw new KeySetException(path + ": " + e.Message); }
        }

        /// <summary>
        /// Parses a JSON Web Key Set or PEM "PUBLIC KEY" blocks with the rules of
        /// spec/bundle-format.md §5.3. Messages never quote key material.
        /// </summary>
        public static TrustedKeys Parse(byte[] data)
        {
            if (data.Length > MaxSize) throw new KeySetException("malformed key set: larger than " + MaxSize + " bytes");
            string t = Encoding.UTF8.GetString(data).Trim();
            List<Key> l;
            if (t.StartsWith("{", StringComparison.Ordinal)) l = Jwks(Encoding.UTF8.GetBytes(t));
            else if (t.StartsWith("-----BEGIN", StringComparison.Ordinal)) l = PemKeys(Encoding.UTF8.GetBytes(t));
            else throw new KeySetException("malformed key set: neither a JWKS nor PEM public keys");
            if (l.Count == 0) throw new KeySetException("malformed key set: no keys");
            return new TrustedKeys(l);
        }

        static readonly string[] PrivateMembers = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

        static List<Key> Jwks(byte[] data)
        {
            Json.JsonObject top;
            try { top = Json.ParseObject(data, true); }
            catch (Json.JsonException e) { throw new KeySetException("malformed key set: " + e.Message); }
            var keysV = top.Get("keys");
            if (keysV == null || keysV == Json.Null) throw new KeySetException("malformed key set: no \"keys\" array");
            var arr = keysV as List<object>;
            if (arr == null) throw new KeySetException("malformed key set: \"keys\" is not an array");
            var o = new List<Key>();
            int i = 0;
            foreach (var item in arr)
            {
                i++;
                var k = item as Json.JsonObject;
                if (k == null) throw new KeySetException("malformed key set: key " + i + " is not an object");
                foreach (var p in PrivateMembers)
                    if (k.Has(p)) throw new KeySetException("malformed key set: key " + i + ": holds private key material (\"" + p + "\"); a key set must hold public keys only");
                var pub = Jwk(i, k);
                string where = "key " + i;
                string alg = AlgorithmOf(pub, where);
                string id = KeyIdOf(pub);
                string kid = Str(k, "kid", i);
                if (kid != null && kid != id) throw new KeySetException("malformed key set: key " + i + ": kid " + Json.Quote(kid) + " is not the key's id " + id);
                string a = Str(k, "alg", i);
                if (a != null && a != alg) throw new KeySetException("malformed key set: key " + i + ": alg " + Json.Quote(a) + " does not match the key (" + alg + ")");
                string use = Str(k, "use", i);
                if (use != null && use != "sig") throw new KeySetException("malformed key set: key " + i + ": use " + Json.Quote(use) + " is not \"sig\"");
                if (k.Has("key_ops"))
                {
                    var ops = k.Get("key_ops");
                    bool found = false;
                    var ol = ops as List<object>;
                    if (ol != null)
                    {
                        foreach (var op in ol)
                        {
                            if (!(op is string)) throw new KeySetException("malformed key set: key " + i + ": key_ops is not an array of strings");
                            found |= (string)op == "verify";
                        }
                    }
                    else if (ops != Json.Null) throw new KeySetException("malformed key set: key " + i + ": key_ops is not an array of strings");
                    if (!found) throw new KeySetException("malformed key set: key " + i + ": key_ops does not allow \"verify\"");
                }
                Add(o, pub, NumericDate(k, "nbf", i), NumericDate(k, "exp", i), where);
            }
            return o;
        }

        static List<Key> PemKeys(byte[] data)
        {
            var o = new List<Key>();
            int i = 0;
            foreach (var b in Pem.Blocks(data))
            {
                i++;
                if (b.Type != "PUBLIC KEY")
                {
                    if (b.Type.Contains("PRIVATE")) throw new KeySetException("malformed key set: PEM block " + i + " is a private key; a key set must hold public keys only");
                    throw new KeySetException("malformed key set: PEM block " + i + " is " + Json.Quote(b.Type) + ", not PUBLIC KEY");
                }
                var pub = PublicKeyInfo.Parse(b.Der);
                if (pub == null) throw new KeySetException("unsupported signing key: PEM block " + i);
                Add(o, pub, null, null, "PEM block " + i);
            }
            string s = Pem.Latin1(data);
            int end = s.LastIndexOf("-----END ", StringComparison.Ordinal);
            int last = 0;
            if (end >= 0) { last = s.IndexOf("-----", end + 9, StringComparison.Ordinal); last = last < 0 ? s.Length : last + 5; }
            if (s.Substring(last).Trim().Length != 0) throw new KeySetException("malformed key set: data after the last PEM block");
            return o;
        }

        static void Add(List<Key> l, PublicKeyInfo pub, DateTime? nbf, DateTime? exp, string where)
        {
            string alg = AlgorithmOf(pub, where);
            string id = KeyIdOf(pub);
            foreach (var k in l) if (k.KeyId == id) throw new KeySetException("malformed key set: " + where + ": key " + id + " listed twice");
            if (nbf != null && exp != null && nbf.Value >= exp.Value) throw new KeySetException("malformed key set: " + where + ": key " + id + ": nbf is not before exp");
            l.Add(new Key { Public = pub, KeyId = id, Algorithm = alg, NotBefore = nbf, Expires = exp });
        }

        internal static string AlgorithmOf(PublicKeyInfo k, string where)
        {
            switch (k.Kind)
            {
                case "EC": return k.Curve == Crypto.P256 ? "ES256" : "ES384";
                case "Ed25519": return "EdDSA";
                case "RSA":
                    int bits = Crypto.BitLength(k.N);
                    if (bits != 3072 && bits != 4096) throw new KeySetException("unsupported signing key: " + where + ": " + bits + "-bit RSA key (use 3072 or 4096 bits)");
                    return "PS256";
            }
            throw new KeySetException("unsupported signing key: " + where);
        }

        /// <summary>Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo.</summary>
        internal static string KeyIdOf(PublicKeyInfo k) { return Cert.Hex(Crypto.Hash("SHA256", k.Spki)); }

        static string Str(Json.JsonObject k, string name, int i)
        {
            if (!k.Has(name)) return null;
            var s = k.Get(name) as string;
            if (s == null) throw new KeySetException("malformed key set: key " + i + ": " + name + " is not a string");
            return s;
        }

        static DateTime? NumericDate(Json.JsonObject k, string name, int i)
        {
            if (!k.Has(name)) return null;
            var n = k.Get(name) as Json.JsonNumber;
            var v = n == null ? null : n.Integer();
            if (v == null || v.Value.Sign < 0 || v.Value > 253402300799) throw new KeySetException("malformed key set: key " + i + ": " + name + " is not an integer number of seconds since the epoch");
            return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds((double)(long)v.Value);
        }

        static byte[] B64(Json.JsonObject k, string name, int i)
        {
            string s = Str(k, name, i);
            if (s == null) throw new KeySetException("malformed key set: key " + i + ": " + name + " missing");
            var b = Base64Strict.DecodeRawUrl(s);
            if (b == null) throw new KeySetException("malformed key set: key " + i + ": " + name + " is not unpadded base64url");
            return b;
        }

        static PublicKeyInfo Jwk(int i, Json.JsonObject k)
        {
            string kty = Str(k, "kty", i), crv = Str(k, "crv", i);
            if (kty == "EC")
            {
                Crypto.Curve c = crv == "P-256" ? Crypto.P256 : crv == "P-384" ? Crypto.P384 : null;
                if (c == null) throw new KeySetException("unsupported signing key: key " + i + ": EC curve " + Json.Quote(crv ?? "") + " (use P-256 or P-384)");
                var x = B64(k, "x", i);
                var y = B64(k, "y", i);
                if (x.Length != c.Size || y.Length != c.Size) throw new KeySetException("malformed key set: key " + i + ": x and y must be " + c.Size + " bytes each");
                var bx = Crypto.FromBigEndianUnsigned(x);
                var by = Crypto.FromBigEndianUnsigned(y);
                if (!Crypto.OnCurve(c, bx, by)) throw new KeySetException("malformed key set: key " + i + ": not a point on " + crv);
                var point = new byte[1 + 2 * c.Size];
                point[0] = 4;
                Array.Copy(x, 0, point, 1, c.Size);
                Array.Copy(y, 0, point, 1 + c.Size, c.Size);
                var algId = Der.Encode(Der.Sequence, Der.Encode(Der.Oid, OidBytes("1.2.840.10045.2.1")), Der.Encode(Der.Oid, OidBytes(c.Oid)));
                var spki = Der.Encode(Der.Sequence, algId, Der.Encode(Der.BitString, Concat(new byte[] { 0 }, point)));
                return PublicKeyInfo.Parse(spki);
            }
            if (kty == "OKP")
            {
                if (crv != "Ed25519") throw new KeySetException("unsupported signing key: key " + i + ": OKP curve " + Json.Quote(crv ?? "") + " (use Ed25519)");
                var x = B64(k, "x", i);
                if (x.Length != 32) throw new KeySetException("malformed key set: key " + i + ": x must be 32 bytes");
                var spki = Der.Encode(Der.Sequence, Der.Encode(Der.Sequence, Der.Encode(Der.Oid, new byte[] { 0x2b, 0x65, 0x70 })), Der.Encode(Der.BitString, Concat(new byte[] { 0 }, x)));
                return PublicKeyInfo.Parse(spki);
            }
            if (kty == "RSA")
            {
                var n = B64(k, "n", i);
                var e = B64(k, "e", i);
                if (n.Length > 1024 || e.Length == 0 || e.Length > 4) throw new KeySetException("malformed key set: key " + i + ": RSA parameters out of range");
                var ev = Crypto.FromBigEndianUnsigned(e);
                if (ev < 3 || ev > int.MaxValue || ev.IsEven) throw new KeySetException("malformed key set: key " + i + ": RSA exponent out of range");
                var nv = Crypto.FromBigEndianUnsigned(n);
                var rsaKey = Der.Encode(Der.Sequence, Der.Encode(Der.Integer, Signed(nv)), Der.Encode(Der.Integer, Signed(ev)));
                var algId = Der.Encode(Der.Sequence, Der.Encode(Der.Oid, OidBytes("1.2.840.113549.1.1.1")), new byte[] { 0x05, 0x00 });
                var spki = Der.Encode(Der.Sequence, algId, Der.Encode(Der.BitString, Concat(new byte[] { 0 }, rsaKey)));
                var pk = PublicKeyInfo.Parse(spki);
                if (pk == null) throw new KeySetException("malformed key set: key " + i + ": malformed RSA key");
                return pk;
            }
            throw new KeySetException("unsupported signing key: key " + i + ": kty " + Json.Quote(kty ?? "") + " (use EC, OKP or RSA)");
        }

        static byte[] Signed(BigInteger v)
        {
            var le = v.ToByteArray();
            int n = le.Length;
            while (n > 1 && le[n - 1] == 0 && (le[n - 2] & 0x80) == 0) n--;
            var be = new byte[n];
            for (int j = 0; j < n; j++) be[j] = le[n - 1 - j];
            return be;
        }

        static byte[] OidBytes(string oid)
        {
            var parts = oid.Split('.');
            var o = new List<byte> { (byte)(int.Parse(parts[0]) * 40 + int.Parse(parts[1])) };
            for (int j = 2; j < parts.Length; j++)
            {
                long v = long.Parse(parts[j]);
                var tmp = new List<byte> { (byte)(v & 0x7f) };
                v >>= 7;
                while (v > 0) { tmp.Insert(0, (byte)(0x80 | (v & 0x7f))); v >>= 7; }
                o.AddRange(tmp);
            }
            return o.ToArray();
        }

        internal static byte[] Concat(byte[] a, byte[] b)
        {
            var o = new byte[a.Length + b.Length];
            Array.Copy(a, o, a.Length);
            Array.Copy(b, 0, o, a.Length, b.Length);
            return o;
        }
    }
}
