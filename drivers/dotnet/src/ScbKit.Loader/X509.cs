using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace ScbKit.Loader
{
    /// <summary>A public key of a supported type (EC P-256/P-384, RSA, Ed25519).</summary>
    internal sealed class PublicKeyInfo
    {
        internal string Kind;            // "EC", "RSA", "Ed25519"
        internal Crypto.Curve Curve;     // EC
        internal BigInteger X, Y;        // EC
        internal BigInteger N, E;        // RSA
        internal byte[] Ed;              // Ed25519
        internal byte[] Spki;            // DER SubjectPublicKeyInfo

        internal bool SameKey(PublicKeyInfo o)
        {
            if (o == null || Kind != o.Kind) return false;
            switch (Kind)
            {
                case "EC": return Curve == o.Curve && X == o.X && Y == o.Y;
                case "RSA": return N == o.N && E == o.E;
                default: return Ed != null && o.Ed != null && Convert.ToBase64String(Ed) == Convert.ToBase64String(o.Ed);
            }
        }

        /// <summary>Parses a DER SubjectPublicKeyInfo; null for unsupported or malformed keys.</summary>
        internal static PublicKeyInfo Parse(byte[] spki)
        {
            try
            {
                var top = Der.ParseOne(spki).Children();
                var alg = top.Next(Der.Sequence).Children();
                string oid = alg.Next().OidString();
                string param = alg.More && alg.PeekTag == Der.Oid ? alg.Next().OidString() : null;
                var bits = top.Next(Der.BitString).Bits();
                if (top.More) return null;
                var k = new PublicKeyInfo { Spki = spki };
                switch (oid)
                {
                    case "1.2.840.10045.2.1":
                        k.Kind = "EC";
                        k.Curve = Crypto.CurveByOid(param);
                        if (k.Curve == null || bits.Length != 1 + 2 * k.Curve.Size || bits[0] != 4) return null;
                        k.X = Crypto.FromBigEndianUnsigned(bits, 1, k.Curve.Size);
                        k.Y = Crypto.FromBigEndianUnsigned(bits, 1 + k.Curve.Size, k.Curve.Size);
                        if (!Crypto.OnCurve(k.Curve, k.X, k.Y)) return null;
                        return k;
                    case "1.2.840.113549.1.1.1":
                        {
                            k.Kind = "RSA";
                            var rsa = Der.ParseOne(bits).Children();
                            k.N = rsa.Next().Int();
                            k.E = rsa.Next().Int();
                            if (k.N.Sign <= 0 || k.E.Sign <= 0) return null;
                            return k;
                        }
                    case "1.3.101.112":
                        if (bits.Length != 32) return null;
                        k.Kind = "Ed25519";
                        k.Ed = bits;
                        return k;
                }
                return null;
            }
            catch (Der.DerException) { return null; }
        }

        /// <summary>Verifies a certificate-style signature (algorithm OID from the certificate).</summary>
        internal bool VerifyCertSignature(string sigAlg, byte[] tbs, byte[] sig)
        {
            switch (sigAlg)
            {
                case "1.2.840.10045.4.3.2": return Ecdsa("SHA256", tbs, sig);
                case "1.2.840.10045.4.3.3": return Ecdsa("SHA384", tbs, sig);
                case "1.2.840.10045.4.3.4": return Ecdsa("SHA512", tbs, sig);
                case "1.2.840.113549.1.1.11": return Kind == "RSA" && Crypto.RsaPkcs1Verify(N, E, "SHA256", tbs, sig);
                case "1.2.840.113549.1.1.12": return Kind == "RSA" && Crypto.RsaPkcs1Verify(N, E, "SHA384", tbs, sig);
                case "1.2.840.113549.1.1.13": return Kind == "RSA" && Crypto.RsaPkcs1Verify(N, E, "SHA512", tbs, sig);
                case "1.3.101.112": return Kind == "Ed25519" && Crypto.Ed25519Verify(Ed, tbs, sig);
            }
            return false;
        }

        bool Ecdsa(string hash, byte[] msg, byte[] sig)
        {
            BigInteger r, s;
            if (Kind != "EC" || !Crypto.ParseDerSignature(sig, out r, out s)) return false;
            return Crypto.EcdsaVerify(Curve, X, Y, Crypto.Hash(hash, msg), r, s);
        }
    }

    /// <summary>A parsed X.509 certificate: the fields path validation and host checks need.</summary>
    internal sealed class Cert
    {
        internal byte[] Raw, Tbs, Signature, IssuerRaw, SubjectRaw;
        internal string SigAlg, SubjectText;
        internal DateTime NotBefore, NotAfter;
        internal PublicKeyInfo Key;
        internal bool IsCA, HasBasicConstraints;
        internal int MaxPathLen = -1;
        internal int KeyUsage = -1; // bit string as int, -1 = absent
        internal List<string> Eku;  // null = absent
        internal List<string> DnsNames = new List<string>();
        internal List<byte[]> IpAddresses = new List<byte[]>();
        internal bool UnknownCritical;

        internal string Fingerprint() { return Hex(Crypto.Hash("SHA256", Raw)); }

        internal static string Hex(byte[] b)
        {
            var sb = new StringBuilder(b.Length * 2);
            foreach (var x in b) sb.Append(x.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        internal sealed class CertException : Exception { internal CertException(string m) : base(m) { } }

        internal static Cert Parse(byte[] der)
        {
            try
            {
                var c = new Cert { Raw = der };
                var top = Der.ParseOne(der).Children();
                var tbsEl = top.Next(Der.Sequence);
                c.Tbs = tbsEl.Encoded();
                var sigAlg = top.Next(Der.Sequence).Children();
                c.SigAlg = sigAlg.Next().OidString();
                c.Signature = top.Next(Der.BitString).Bits();
                if (top.More) throw new CertException("data after certificate");
                var t = tbsEl.Children();
                if (t.PeekTag == 0xa0) t.Next();
                t.Next(Der.Integer);
                var innerAlg = t.Next(Der.Sequence).Children().Next().OidString();
                if (innerAlg != c.SigAlg) throw new CertException("signature algorithm mismatch");
                var issuer = t.Next(Der.Sequence);
                c.IssuerRaw = issuer.Encoded();
                var validity = t.Next(Der.Sequence).Children();
                c.NotBefore = Time(validity.Next());
                c.NotAfter = Time(validity.Next());
                var subject = t.Next(Der.Sequence);
                c.SubjectRaw = subject.Encoded();
                c.SubjectText = NameText(subject);
                var spki = t.Next(Der.Sequence).Encoded();
                c.Key = PublicKeyInfo.Parse(spki);
                while (t.More)
                {
                    var e = t.Next();
                    if (e.Tag == 0xa3) c.Extensions(e.Children().Next(Der.Sequence).Children());
                }
                return c;
            }
            catch (Der.DerException e) { throw new CertException("malformed certificate: " + e.Message); }
        }

        static DateTime Time(Der.Element e)
        {
            string s = Encoding.ASCII.GetString(e.Content());
            int yearLen;
            if (e.Tag == Der.UtcTime) yearLen = 2;
            else if (e.Tag == Der.GeneralizedTime) yearLen = 4;
            else throw new Der.DerException("bad time");
            if (s.Length != yearLen + 11 || s[s.Length - 1] != 'Z') throw new Der.DerException("bad time");
            foreach (char ch in s.Substring(0, s.Length - 1)) if (ch < '0' || ch > '9') throw new Der.DerException("bad time");
            Func<int, int, int> num = (off, len) => int.Parse(s.Substring(off, len), CultureInfo.InvariantCulture);
            int year = num(0, yearLen);
            if (yearLen == 2) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
            try { return new DateTime(year, num(yearLen, 2), num(yearLen + 2, 2), num(yearLen + 4, 2), num(yearLen + 6, 2), num(yearLen + 8, 2), DateTimeKind.Utc); }
            catch (ArgumentOutOfRangeException) { throw new Der.DerException("bad time"); }
        }

        static string NameText(Der.Element name)
        {
            var parts = new List<string>();
            try
            {
                var rdns = name.Children();
                while (rdns.More)
                {
                    var set = rdns.Next().Children();
                    while (set.More)
                    {
                        var atv = set.Next(Der.Sequence).Children();
                        string oid = atv.Next().OidString();
                        string v = Encoding.UTF8.GetString(atv.Next().Content());
                        string k = oid == "2.5.4.3" ? "CN" : oid == "2.5.4.10" ? "O" : oid == "2.5.4.11" ? "OU" : oid;
                        parts.Add(k + "=" + v);
                    }
                }
            }
            catch (Der.DerException) { }
            return string.Join(",", parts);
        }

        void Extensions(Der exts)
        {
            while (exts.More)
            {
                var ext = exts.Next(Der.Sequence).Children();
                string oid = ext.Next().OidString();
                bool critical = false;
                if (ext.PeekTag == Der.Boolean) critical = ext.Next().Content()[0] != 0;
                var val = ext.Next(Der.OctetString).Content();
                switch (oid)
                {
                    case "2.5.29.19":
                        {
                            HasBasicConstraints = true;
                            var bc = Der.ParseOne(val).Children();
                            if (bc.More && bc.PeekTag == Der.Boolean) IsCA = bc.Next().Content()[0] != 0;
                            if (bc.More && bc.PeekTag == Der.Integer) MaxPathLen = (int)bc.Next().Int();
                            break;
                        }
                    case "2.5.29.15":
                        {
                            var bits = Der.ParseOne(val).Content();
                            int ku = 0;
                            if (bits.Length > 1) ku = bits[1];
                            if (bits.Length > 2) ku |= bits[2] << 8;
                            KeyUsage = ku;
                            break;
                        }
                    case "2.5.29.37":
                        {
                            Eku = new List<string>();
                            var s = Der.ParseOne(val).Children();
                            while (s.More) Eku.Add(s.Next().OidString());
                            break;
                        }
                    case "2.5.29.17":
                        {
                            var s = Der.ParseOne(val).Children();
                            while (s.More)
                            {
                                var gn = s.Next();
                                if (gn.Tag == 0x82) DnsNames.Add(Encoding.ASCII.GetString(gn.Content()));
                                else if (gn.Tag == 0x87) IpAddresses.Add(gn.Content());
                            }
                            break;
                        }
                    case "2.5.29.14": case "2.5.29.35": case "2.5.29.31": case "1.3.6.1.5.5.7.1.1": case "2.5.29.32":
                        break;
                    default:
                        if (critical) UnknownCritical = true;
                        break;
                }
            }
        }

        /// <summary>Whether this certificate is valid for host (a DNS name or an IP address literal).</summary>
        internal bool MatchesHost(string host)
        {
            System.Net.IPAddress ip;
            if (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out ip))
            {
                var want = ip.GetAddressBytes();
                foreach (var a in IpAddresses)
                {
                    if (a.Length != want.Length) continue;
                    bool eq = true;
                    for (int i = 0; i < a.Length; i++) eq &= a[i] == want[i];
                    if (eq) return true;
                }
                return false;
            }
            string h = host.TrimEnd('.').ToLowerInvariant();
            foreach (var n in DnsNames)
            {
                string p = n.ToLowerInvariant();
                if (p == h) return true;
                if (p.StartsWith("*.", StringComparison.Ordinal))
                {
                    int dot = h.IndexOf('.');
                    if (dot > 0 && h.Substring(dot) == p.Substring(1)) return true;
                }
            }
            return false;
        }

        internal static bool Same(Cert a, Cert b)
        {
            if (a.Raw.Length != b.Raw.Length) return false;
            for (int i = 0; i < a.Raw.Length; i++) if (a.Raw[i] != b.Raw[i]) return false;
            return true;
        }
    }

    /// <summary>PEM blocks and certificate lists.</summary>
    internal static class Pem
    {
        internal sealed class Block { internal string Type; internal byte[] Der; }

        /// <summary>Every well-formed PEM block, in order; malformed blocks are skipped.</summary>
        internal static List<Block> Blocks(byte[] data)
        {
            string s = Latin1(data);
            var o = new List<Block>();
            int p = 0;
            while (true)
            {
                int b = s.IndexOf("-----BEGIN ", p, StringComparison.Ordinal);
                if (b < 0) return o;
                int te = s.IndexOf("-----", b + 11, StringComparison.Ordinal);
                if (te < 0) return o;
                string type = s.Substring(b + 11, te - b - 11);
                string endMarker = "-----END " + type + "-----";
                int e = s.IndexOf(endMarker, te + 5, StringComparison.Ordinal);
                if (e < 0 || type.IndexOf('\n') >= 0) { p = b + 11; continue; }
                var b64 = new StringBuilder();
                foreach (var line in s.Substring(te + 5, e - te - 5).Split('\n'))
                {
                    var l = line.Trim();
                    if (l.IndexOf(':') >= 0) continue;
                    b64.Append(l);
                }
                try { o.Add(new Block { Type = type, Der = Convert.FromBase64String(b64.ToString()) }); }
                catch (FormatException) { }
                p = e + endMarker.Length;
            }
        }

        /// <summary>Every CERTIFICATE block, in order; an error when none or one is malformed.</summary>
        internal static List<Cert> Certificates(byte[] data)
        {
            var o = new List<Cert>();
            foreach (var b in Blocks(data))
            {
                if (b.Type != "CERTIFICATE") continue;
                try { o.Add(Cert.Parse(b.Der)); }
                catch (Cert.CertException) { throw new Cert.CertException("malformed certificate " + (o.Count + 1)); }
            }
            if (o.Count == 0) throw new Cert.CertException("no PEM certificate found");
            return o;
        }

        internal static string Latin1(byte[] data)
        {
            var c = new char[data.Length];
            for (int i = 0; i < data.Length; i++) c[i] = (char)data[i];
            return new string(c);
        }

        internal static bool IsEncryptedKey(byte[] data)
        {
            return Latin1(data).Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        }
    }

    /// <summary>Certification path building and validation (RFC 5280 subset used by scbkit).</summary>
    internal static class PathValidator
    {
        internal const string ClientAuth = "1.3.6.1.5.5.7.3.2";
        internal const string ServerAuth = "1.3.6.1.5.5.7.3.1";
        const string AnyEku = "2.5.29.37.0";

        /// <summary>
        /// Builds a path leaf → intermediates → one of anchors, valid at t with usage eku
        /// permitted by every certificate. Returns it leaf first, anchor last, or throws.
        /// </summary>
        internal static List<Cert> Build(Cert leaf, IList<Cert> intermediates, IList<Cert> anchors, DateTime t, string eku)
        {
            string why = "no path to a trusted certificate";
            var path = new List<Cert> { leaf };
            if (Extend(path, intermediates, anchors, t, eku, ref why)) return path;
            throw new Cert.CertException(why);
        }

        static bool Extend(List<Cert> path, IList<Cert> intermediates, IList<Cert> anchors, DateTime t, string eku, ref string why)
        {
            var cur = path[path.Count - 1];
            if (!Usable(cur, path.Count == 1, t, eku, ref why)) return false;
            foreach (var a in anchors)
            {
                if (Cert.Same(a, cur)) return true;
            }
            if (path.Count > 8) { why = "path too long"; return false; }
            foreach (var a in anchors)
            {
                if (!Issues(a, cur, ref why)) continue;
                if (!Usable(a, false, t, eku, ref why)) continue;
                if (!PathLenOk(a, path.Count - 1, ref why)) continue;
                path.Add(a);
                return true;
            }
            foreach (var i in intermediates)
            {
                if (path.Exists(c => Cert.Same(c, i))) continue;
                if (!Issues(i, cur, ref why)) continue;
                if (!PathLenOk(i, path.Count - 1, ref why)) continue;
                path.Add(i);
                if (Extend(path, intermediates, anchors, t, eku, ref why)) return true;
                path.RemoveAt(path.Count - 1);
            }
            return false;
        }

        static bool PathLenOk(Cert issuer, int below, ref string why)
        {
            if (issuer.MaxPathLen >= 0 && below - 1 > issuer.MaxPathLen) { why = "path length constraint exceeded"; return false; }
            return true;
        }

        static bool Issues(Cert issuer, Cert child, ref string why)
        {
            if (!Bytes(issuer.SubjectRaw, child.IssuerRaw)) return false;
            if (!issuer.HasBasicConstraints || !issuer.IsCA) { why = "issuer is not a CA"; return false; }
            if (issuer.KeyUsage >= 0 && (issuer.KeyUsage & 0x04) == 0) { why = "issuer may not sign certificates"; return false; }
            if (issuer.Key == null || !issuer.Key.VerifyCertSignature(child.SigAlg, child.Tbs, child.Signature))
            {
                why = "certificate signature does not verify";
                return false;
            }
            return true;
        }

        static bool Usable(Cert c, bool leaf, DateTime t, string eku, ref string why)
        {
            if (t < c.NotBefore || t > c.NotAfter) { why = "certificate is not valid at the verification time"; return false; }
            if (c.UnknownCritical) { why = "unhandled critical extension"; return false; }
            if (eku != null && c.Eku != null && !c.Eku.Contains(eku) && !c.Eku.Contains(AnyEku))
            {
                why = "certificate specifies an incompatible key usage";
                return false;
            }
            return true;
        }

        internal static bool Bytes(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }
    }
}
