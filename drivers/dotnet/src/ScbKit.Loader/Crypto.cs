using System;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace ScbKit.Loader
{
    /// <summary>
    /// Managed public-key verification: ECDSA P-256/P-384, pure Ed25519, RSASSA-PSS and RSA
    /// PKCS#1 v1.5, written against System.Numerics.BigInteger so that it runs the same on
    /// .NET and on Mono (whose System.Security.Cryptography has no ECDsa and no Ed25519). Only
    /// public operations on public inputs are done here, so constant time is not needed; nothing
    /// here ever signs.
    /// </summary>
    internal static class Crypto
    {
        // ---- big-endian <-> BigInteger ----------------------------------------------------------

        internal static BigInteger FromBigEndianUnsigned(byte[] b, int off = 0, int len = -1)
        {
            if (len < 0) len = b.Length - off;
            var le = new byte[len + 1];
            for (int i = 0; i < len; i++) le[i] = b[off + len - 1 - i];
            return new BigInteger(le);
        }

        internal static BigInteger FromBigEndianSigned(byte[] b)
        {
            var le = new byte[b.Length];
            for (int i = 0; i < b.Length; i++) le[i] = b[b.Length - 1 - i];
            return new BigInteger(le);
        }

        internal static BigInteger FromLittleEndian(byte[] b, int off, int len)
        {
            var le = new byte[len + 1];
            Array.Copy(b, off, le, 0, len);
            return new BigInteger(le);
        }

        /// <summary>v as exactly len big-endian bytes; null if it does not fit.</summary>
        internal static byte[] ToBigEndian(BigInteger v, int len)
        {
            var le = v.ToByteArray();
            int n = le.Length;
            while (n > 0 && le[n - 1] == 0) n--;
            if (n > len) return null;
            var o = new byte[len];
            for (int i = 0; i < n; i++) o[len - 1 - i] = le[i];
            return o;
        }

        internal static int BitLength(BigInteger v)
        {
            if (v.Sign <= 0) return 0;
            var b = v.ToByteArray();
            int n = b.Length;
            while (n > 1 && b[n - 1] == 0) n--;
            int top = b[n - 1];
            int bits = (n - 1) * 8;
            while (top != 0) { bits++; top >>= 1; }
            return bits;
        }

        static BigInteger Mod(BigInteger a, BigInteger m) { var r = BigInteger.Remainder(a, m); return r.Sign < 0 ? r + m : r; }
        static BigInteger Inv(BigInteger a, BigInteger p) { return BigInteger.ModPow(Mod(a, p), p - 2, p); }

        static BigInteger Hex(string h) { return BigInteger.Parse("0" + h, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture); }

        internal static byte[] Hash(string name, byte[] data)
        {
            HashAlgorithm h;
            switch (name)
            {
                case "SHA256": h = SHA256.Create(); break;
                case "SHA384": h = SHA384.Create(); break;
                case "SHA512": h = SHA512.Create(); break;
                case "SHA1": h = SHA1.Create(); break;
                default: throw new ArgumentException("unsupported hash");
            }
            using (h) return h.ComputeHash(data);
        }

        // ---- short Weierstrass curves (a = -3) -------------------------------------------------

        internal sealed class Curve
        {
            internal string Name, Oid;
            internal BigInteger P, B, N, Gx, Gy;
            internal int Size;
        }

        internal static readonly Curve P256 = new Curve
        {
            Name = "P-256", Oid = "1.2.840.10045.3.1.7", Size = 32,
            P = Hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
            B = Hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
            N = Hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
            Gx = Hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
            Gy = Hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
        };

        internal static readonly Curve P384 = new Curve
        {
            Name = "P-384", Oid = "1.3.132.0.34", Size = 48,
            P = Hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
            B = Hex("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"),
            N = Hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
            Gx = Hex("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"),
            Gy = Hex("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"),
        };

        internal static Curve CurveByOid(string oid)
        {
            if (oid == P256.Oid) return P256;
            if (oid == P384.Oid) return P384;
            return null;
        }

        internal static bool OnCurve(Curve c, BigInteger x, BigInteger y)
        {
            if (x.Sign < 0 || y.Sign < 0 || x >= c.P || y >= c.P) return false;
            var lhs = Mod(y * y, c.P);
            var rhs = Mod(x * x * x - 3 * x + c.B, c.P);
            return lhs == rhs;
        }

        // Jacobian coordinates; Z == 0 is the point at infinity.
        struct Jac { internal BigInteger X, Y, Z; }

        static Jac Double(Curve c, Jac p)
        {
            if (p.Z.IsZero || p.Y.IsZero) return new Jac { X = 1, Y = 1, Z = 0 };
            var P = c.P;
            var delta = Mod(p.Z * p.Z, P);
            var gamma = Mod(p.Y * p.Y, P);
            var beta = Mod(p.X * gamma, P);
            var alpha = Mod(3 * (p.X - delta) * (p.X + delta), P);
            var x3 = Mod(alpha * alpha - 8 * beta, P);
            var z3 = Mod((p.Y + p.Z) * (p.Y + p.Z) - gamma - delta, P);
            var y3 = Mod(alpha * (4 * beta - x3) - 8 * gamma * gamma, P);
            return new Jac { X = x3, Y = y3, Z = z3 };
        }

        static Jac Add(Curve c, Jac p, Jac q)
        {
            if (p.Z.IsZero) return q;
            if (q.Z.IsZero) return p;
            var P = c.P;
            var z1z1 = Mod(p.Z * p.Z, P);
            var z2z2 = Mod(q.Z * q.Z, P);
            var u1 = Mod(p.X * z2z2, P);
            var u2 = Mod(q.X * z1z1, P);
            var s1 = Mod(p.Y * q.Z * z2z2, P);
            var s2 = Mod(q.Y * p.Z * z1z1, P);
            if (u1 == u2) return s1 == s2 ? Double(c, p) : new Jac { X = 1, Y = 1, Z = 0 };
            var h = Mod(u2 - u1, P);
            var i = Mod(4 * h * h, P);
            var j = Mod(h * i, P);
            var r = Mod(2 * (s2 - s1), P);
            var v = Mod(u1 * i, P);
            var x3 = Mod(r * r - j - 2 * v, P);
            var y3 = Mod(r * (v - x3) - 2 * s1 * j, P);
            var z3 = Mod(((p.Z + q.Z) * (p.Z + q.Z) - z1z1 - z2z2) * h, P);
            return new Jac { X = x3, Y = y3, Z = z3 };
        }

        static Jac Mul(Curve c, BigInteger k, BigInteger x, BigInteger y)
        {
            var r = new Jac { X = 1, Y = 1, Z = 0 };
            var q = new Jac { X = x, Y = y, Z = 1 };
            int bits = BitLength(k);
            for (int i = bits - 1; i >= 0; i--)
            {
                r = Double(c, r);
                if (!(k >> i).IsEven) r = Add(c, r, q);
            }
            return r;
        }

        static bool Affine(Curve c, Jac p, out BigInteger x, out BigInteger y)
        {
            x = y = BigInteger.Zero;
            if (p.Z.IsZero) return false;
            var zi = Inv(p.Z, c.P);
            var zi2 = Mod(zi * zi, c.P);
            x = Mod(p.X * zi2, c.P);
            y = Mod(p.Y * zi2 * zi, c.P);
            return true;
        }

        /// <summary>The public point d·G (to compare a private key with a certificate).</summary>
        internal static bool EcPublic(Curve c, BigInteger d, out BigInteger x, out BigInteger y)
        {
            return Affine(c, Mul(c, d, c.Gx, c.Gy), out x, out y);
        }

        /// <summary>ECDSA verification of (r, s) over a message digest.</summary>
        internal static bool EcdsaVerify(Curve c, BigInteger qx, BigInteger qy, byte[] digest, BigInteger r, BigInteger s)
        {
            if (r.Sign <= 0 || s.Sign <= 0 || r >= c.N || s >= c.N) return false;
            if (!OnCurve(c, qx, qy)) return false;
            var e = FromBigEndianUnsigned(digest);
            int excess = digest.Length * 8 - BitLength(c.N);
            if (excess > 0) e >>= excess;
            var w = Inv(s, c.N);
            var u1 = Mod(e * w, c.N);
            var u2 = Mod(r * w, c.N);
            var p = Add(c, Mul(c, u1, c.Gx, c.Gy), Mul(c, u2, qx, qy));
            BigInteger x, y;
            if (!Affine(c, p, out x, out y)) return false;
            return Mod(x, c.N) == r;
        }

        /// <summary>
        /// Parses a strictly DER-encoded ECDSA signature (SEQUENCE of two positive, minimal
        /// INTEGERs, nothing after it). Returns false for anything else.
        /// </summary>
        internal static bool ParseDerSignature(byte[] sig, out BigInteger r, out BigInteger s)
        {
            r = s = BigInteger.Zero;
            try
            {
                var seq = Der.ParseOne(sig);
                if (seq.Tag != Der.Sequence) return false;
                var d = seq.Children();
                r = d.Next().Int();
                s = d.Next().Int();
                return !d.More && r.Sign > 0 && s.Sign > 0;
            }
            catch (Der.DerException) { return false; }
        }

        // ---- Ed25519 ---------------------------------------------------------------------------

        static readonly BigInteger EdP = BigInteger.Pow(2, 255) - 19;
        static readonly BigInteger EdL = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", CultureInfo.InvariantCulture);
        static readonly BigInteger EdD = Mod(-121665 * Inv(121666, EdP), EdP);
        static readonly BigInteger EdD2 = Mod(2 * EdD, EdP);
        static readonly BigInteger EdSqrtM1 = BigInteger.ModPow(2, (EdP - 1) / 4, EdP);
        static readonly Ext EdB = MakeBase();

        struct Ext { internal BigInteger X, Y, Z, T; }

        static Ext MakeBase()
        {
            var y = Mod(4 * Inv(5, EdP), EdP);
            BigInteger x;
            RecoverX(y, 0, out x);
            return new Ext { X = x, Y = y, Z = 1, T = Mod(x * y, EdP) };
        }

        static bool RecoverX(BigInteger y, int sign, out BigInteger x)
        {
            x = BigInteger.Zero;
            if (y >= EdP) return false;
            var y2 = Mod(y * y, EdP);
            var x2 = Mod((y2 - 1) * Inv(EdD * y2 + 1, EdP), EdP);
            if (x2.IsZero) { if (sign != 0) return false; x = 0; return true; }
            x = BigInteger.ModPow(x2, (EdP + 3) / 8, EdP);
            if (Mod(x * x - x2, EdP) != 0) x = Mod(x * EdSqrtM1, EdP);
            if (Mod(x * x - x2, EdP) != 0) return false;
            if ((int)(x % 2) != sign) x = EdP - x;
            return true;
        }

        static Ext EdAdd(Ext p, Ext q)
        {
            var a = Mod((p.Y - p.X) * (q.Y - q.X), EdP);
            var b = Mod((p.Y + p.X) * (q.Y + q.X), EdP);
            var c = Mod(p.T * EdD2 * q.T, EdP);
            var d = Mod(p.Z * 2 * q.Z, EdP);
            var e = b - a; var f = d - c; var g = d + c; var h = b + a;
            return new Ext { X = Mod(e * f, EdP), Y = Mod(g * h, EdP), T = Mod(e * h, EdP), Z = Mod(f * g, EdP) };
        }

        static Ext EdMul(BigInteger k, Ext p)
        {
            var r = new Ext { X = 0, Y = 1, Z = 1, T = 0 };
            for (int i = BitLength(k) - 1; i >= 0; i--)
            {
                r = EdAdd(r, r);
                if (!(k >> i).IsEven) r = EdAdd(r, p);
            }
            return r;
        }

        static byte[] EdEncode(Ext p)
        {
            var zi = Inv(p.Z, EdP);
            var x = Mod(p.X * zi, EdP);
            var y = Mod(p.Y * zi, EdP);
            var le = y.ToByteArray();
            var o = new byte[32];
            Array.Copy(le, o, Math.Min(32, le.Length));
            if (!x.IsEven) o[31] |= 0x80;
            return o;
        }

        static bool EdDecode(byte[] b, int off, out Ext p)
        {
            p = new Ext();
            var raw = new byte[32];
            Array.Copy(b, off, raw, 0, 32);
            int sign = raw[31] >> 7;
            raw[31] &= 0x7f;
            var y = FromLittleEndian(raw, 0, 32);
            BigInteger x;
            if (!RecoverX(y, sign, out x)) return false;
            p = new Ext { X = x, Y = y, Z = 1, T = Mod(x * y, EdP) };
            return true;
        }

        /// <summary>Pure Ed25519 (RFC 8032) verification, cofactorless as in Go.</summary>
        internal static bool Ed25519Verify(byte[] pub, byte[] msg, byte[] sig)
        {
            if (pub.Length != 32 || sig.Length != 64) return false;
            Ext a;
            if (!EdDecode(pub, 0, out a)) return false;
            var s = FromLittleEndian(sig, 32, 32);
            if (s >= EdL) return false;
            var hin = new byte[64 + msg.Length];
            Array.Copy(sig, 0, hin, 0, 32);
            Array.Copy(pub, 0, hin, 32, 32);
            Array.Copy(msg, 0, hin, 64, msg.Length);
            var h = Mod(FromLittleEndian(Hash("SHA512", hin), 0, 64), EdL);
            var negA = new Ext { X = Mod(-a.X, EdP), Y = a.Y, Z = a.Z, T = Mod(-a.T, EdP) };
            var r = EdAdd(EdMul(s, EdB), EdMul(h, negA));
            var enc = EdEncode(r);
            for (int i = 0; i < 32; i++) if (enc[i] != sig[i]) return false;
            return true;
        }

        /// <summary>The Ed25519 public key of a 32-byte seed.</summary>
        internal static byte[] Ed25519Public(byte[] seed)
        {
            var h = Hash("SHA512", seed);
            h[0] &= 248; h[31] &= 127; h[31] |= 64;
            return EdEncode(EdMul(FromLittleEndian(h, 0, 32), EdB));
        }

        // ---- RSA -------------------------------------------------------------------------------

        static byte[] RsaPublicOp(BigInteger n, BigInteger e, byte[] sig)
        {
            int k = (BitLength(n) + 7) / 8;
            if (sig.Length != k) return null;
            var s = FromBigEndianUnsigned(sig);
            if (s >= n) return null;
            return ToBigEndian(BigInteger.ModPow(s, e, n), k);
        }

        static byte[] Mgf1(string hash, byte[] seed, int len)
        {
            var o = new byte[len];
            int off = 0;
            for (uint counter = 0; off < len; counter++)
            {
                var inp = new byte[seed.Length + 4];
                Array.Copy(seed, inp, seed.Length);
                inp[seed.Length] = (byte)(counter >> 24); inp[seed.Length + 1] = (byte)(counter >> 16);
                inp[seed.Length + 2] = (byte)(counter >> 8); inp[seed.Length + 3] = (byte)counter;
                var h = Hash(hash, inp);
                int n = Math.Min(h.Length, len - off);
                Array.Copy(h, 0, o, off, n);
                off += n;
            }
            return o;
        }

        /// <summary>RSASSA-PSS verification (RFC 8017 §8.1.2) with MGF1 on the same hash.</summary>
        internal static bool RsaPssVerify(BigInteger n, BigInteger e, string hash, int saltLen, byte[] msg, byte[] sig)
        {
            int modBits = BitLength(n);
            var em0 = RsaPublicOp(n, e, sig);
            if (em0 == null) return false;
            int emBits = modBits - 1;
            int emLen = (emBits + 7) / 8;
            // em0 has k bytes; EM is its last emLen bytes (the first must be zero when k > emLen).
            int k = em0.Length;
            for (int i = 0; i < k - emLen; i++) if (em0[i] != 0) return false;
            var em = new byte[emLen];
            Array.Copy(em0, k - emLen, em, 0, emLen);
            var mHash = Hash(hash, msg);
            int hLen = mHash.Length;
            if (emLen < hLen + saltLen + 2 || em[emLen - 1] != 0xbc) return false;
            int dbLen = emLen - hLen - 1;
            var h = new byte[hLen];
            Array.Copy(em, dbLen, h, 0, hLen);
            int zeroBits = 8 * emLen - emBits;
            if ((em[0] & (0xff << (8 - zeroBits)) & 0xff) != 0) return false;
            var mask = Mgf1(hash, h, dbLen);
            var db = new byte[dbLen];
            for (int i = 0; i < dbLen; i++) db[i] = (byte)(em[i] ^ mask[i]);
            db[0] &= (byte)(0xff >> zeroBits);
            int ps = emLen - hLen - saltLen - 2;
            for (int i = 0; i < ps; i++) if (db[i] != 0) return false;
            if (db[ps] != 0x01) return false;
            var mp = new byte[8 + hLen + saltLen];
            Array.Copy(mHash, 0, mp, 8, hLen);
            Array.Copy(db, dbLen - saltLen, mp, 8 + hLen, saltLen);
            var h2 = Hash(hash, mp);
            for (int i = 0; i < hLen; i++) if (h2[i] != h[i]) return false;
            return true;
        }

        static readonly System.Collections.Generic.Dictionary<string, byte[]> DigestInfoPrefix = new System.Collections.Generic.Dictionary<string, byte[]>
        {
            { "SHA256", new byte[] { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 } },
            { "SHA384", new byte[] { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 } },
            { "SHA512", new byte[] { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 } },
        };

        /// <summary>RSASSA-PKCS1-v1_5 verification (certificate signatures).</summary>
        internal static bool RsaPkcs1Verify(BigInteger n, BigInteger e, string hash, byte[] msg, byte[] sig)
        {
            var em = RsaPublicOp(n, e, sig);
            if (em == null) return false;
            var prefix = DigestInfoPrefix[hash];
            var d = Hash(hash, msg);
            int tLen = prefix.Length + d.Length;
            if (em.Length < tLen + 11) return false;
            if (em[0] != 0 || em[1] != 1) return false;
            int psEnd = em.Length - tLen - 1;
            for (int i = 2; i < psEnd; i++) if (em[i] != 0xff) return false;
            if (em[psEnd] != 0) return false;
            for (int i = 0; i < prefix.Length; i++) if (em[psEnd + 1 + i] != prefix[i]) return false;
            for (int i = 0; i < d.Length; i++) if (em[psEnd + 1 + prefix.Length + i] != d[i]) return false;
            return true;
        }

        // ---- password-based decryption ---------------------------------------------------------

        /// <summary>PBKDF2 (RFC 8018) with an HMAC of the given hash.</summary>
        internal static byte[] Pbkdf2(string prf, byte[] password, byte[] salt, int iterations, int len)
        {
            HMAC mac;
            switch (prf)
            {
                case "SHA1": mac = new HMACSHA1(password); break;
                case "SHA256": mac = new HMACSHA256(password); break;
                case "SHA384": mac = new HMACSHA384(password); break;
                case "SHA512": mac = new HMACSHA512(password); break;
                default: throw new ArgumentException("unsupported PRF");
            }
            using (mac)
            {
                var o = new byte[len];
                int off = 0;
                for (uint block = 1; off < len; block++)
                {
                    var s = new byte[salt.Length + 4];
                    Array.Copy(salt, s, salt.Length);
                    s[salt.Length] = (byte)(block >> 24); s[salt.Length + 1] = (byte)(block >> 16);
                    s[salt.Length + 2] = (byte)(block >> 8); s[salt.Length + 3] = (byte)block;
                    var u = mac.ComputeHash(s);
                    var t = (byte[])u.Clone();
                    for (int i = 1; i < iterations; i++)
                    {
                        u = mac.ComputeHash(u);
                        for (int j = 0; j < t.Length; j++) t[j] ^= u[j];
                    }
                    int n = Math.Min(t.Length, len - off);
                    Array.Copy(t, 0, o, off, n);
                    off += n;
                }
                return o;
            }
        }

        /// <summary>CBC decryption with PKCS#7 padding; null when the padding is wrong.</summary>
        internal static byte[] CbcDecrypt(string alg, byte[] key, byte[] iv, byte[] data)
        {
            SymmetricAlgorithm a = alg == "AES" ? (SymmetricAlgorithm)Aes.Create() : TripleDES.Create();
            using (a)
            {
                a.Mode = CipherMode.CBC;
                a.Padding = PaddingMode.None;
                a.Key = key;
                a.IV = iv;
                byte[] plain;
                using (var d = a.CreateDecryptor()) plain = d.TransformFinalBlock(data, 0, data.Length);
                if (plain.Length == 0) return null;
                int pad = plain[plain.Length - 1];
                if (pad < 1 || pad > iv.Length || pad > plain.Length) return null;
                for (int i = plain.Length - pad; i < plain.Length; i++) if (plain[i] != pad) return null;
                var o = new byte[plain.Length - pad];
                Array.Copy(plain, o, o.Length);
                Array.Clear(plain, 0, plain.Length);
                return o;
            }
        }
    }
}
