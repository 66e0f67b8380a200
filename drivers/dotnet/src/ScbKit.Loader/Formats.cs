using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace ScbKit.Loader
{
    /// <summary>DSSE envelopes with the scbkit rules (spec/bundle-format.md §5).</summary>
    internal sealed class Dsse
    {
        internal const string PayloadTypeManifest = "application/vnd.scbkit.manifest+json";
        internal const string PayloadTypeArchive = "application/vnd.scbkit.archive+json";
        internal const string ArchiveStatementType = "scbkit.archive/1";
        internal const int MaxEnvelopeSize = 4 << 20, MaxSignatures = 32, MaxSignatureSize = 1024;

        internal string PayloadType;
        internal byte[] Payload;
        internal readonly List<string> KeyIds = new List<string>();
        internal readonly List<byte[]> Sigs = new List<byte[]>();
        string path;

        static BundleException Malformed(string path, string why) { return new BundleException(Outcome.MalformedSignature, path, "malformed signature envelope: " + why); }

        internal static byte[] Pae(string type, byte[] payload)
        {
            var head = Encoding.UTF8.GetBytes("DSSEv1 " + Encoding.UTF8.GetByteCount(type) + " " + type + " " + payload.Length + " ");
            return TrustedKeys.Concat(head, payload);
        }

        internal static bool IsKeyId(string s)
        {
            if (s == null || s.Length != 64) return false;
            foreach (char c in s) if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            return true;
        }

        static string StrMember(Json.JsonObject m, string name, string path)
        {
            var v = m.Get(name);
            if (v == null || v == Json.Null) return "";
            var s = v as string;
            if (s == null) throw Malformed(path, "member " + Json.Quote(name) + " has the wrong type");
            return s;
        }

        internal static Dsse Parse(byte[] data, string path)
        {
            if (data.Length > MaxEnvelopeSize) throw Malformed(path, "envelope larger than " + MaxEnvelopeSize + " bytes");
            Json.JsonObject m;
            try { m = Json.ParseObject(data, true); }
            catch (Json.JsonException e) { throw Malformed(path, e.Message); }
            foreach (var k in m.Keys)
                if (k != "payloadType" && k != "payload" && k != "signatures") throw Malformed(path, "unknown member " + Json.Quote(k));
            string pt = StrMember(m, "payloadType", path);
            if (pt.Length == 0) throw Malformed(path, "payloadType missing");
            var payload = Base64Strict.DecodeStd(StrMember(m, "payload", path));
            if (payload == null) throw Malformed(path, "payload is not standard base64");
            var sv = m.Get("signatures");
            List<object> sl;
            if (sv == null || sv == Json.Null) sl = new List<object>();
            else { sl = sv as List<object>; if (sl == null) throw Malformed(path, "member \"signatures\" has the wrong type"); }
            if (sl.Count == 0) throw Malformed(path, "no signatures");
            if (sl.Count > MaxSignatures) throw Malformed(path, "more than " + MaxSignatures + " signatures");
            var e2 = new Dsse { PayloadType = pt, Payload = payload, path = path };
            int i = 0;
            foreach (var o in sl)
            {
                i++;
                Json.JsonObject s;
                if (o == Json.Null) s = new Json.JsonObject();
                else { s = o as Json.JsonObject; if (s == null) throw Malformed(path, "member \"signatures\" has the wrong type"); }
                foreach (var k in s.Keys) if (k != "keyid" && k != "sig") throw Malformed(path, "unknown member " + Json.Quote(k));
                string keyId = StrMember(s, "keyid", path), sig = StrMember(s, "sig", path);
                if (!IsKeyId(keyId)) throw Malformed(path, "signature " + i + ": keyid is not 64 lower-case hexadecimal digits");
                if (e2.KeyIds.Contains(keyId)) throw Malformed(path, "signature " + i + ": key " + keyId + " signed twice");
                var raw = Base64Strict.DecodeStd(sig);
                if (raw == null || raw.Length == 0 || raw.Length > MaxSignatureSize) throw Malformed(path, "signature " + i + ": sig is not a non-empty standard base64 signature");
                e2.KeyIds.Add(keyId);
                e2.Sigs.Add(raw);
            }
            return e2;
        }

        internal sealed class Verified
        {
            internal readonly List<string> KeyIds = new List<string>(), Expired = new List<string>(), Unknown = new List<string>();
        }

        /// <summary>The signature rule of spec §6.1.</summary>
        internal Verified Verify(TrustedKeys keys, DateTime now, int threshold)
        {
            if (keys == null || keys.Count == 0) throw new BundleException(Outcome.Error, null, "no trusted keys given");
            threshold = Math.Max(threshold, 1);
            var pae = Pae(PayloadType, Payload);
            var v = new Verified();
            for (int i = 0; i < KeyIds.Count; i++)
            {
                var k = keys.Get(KeyIds[i]);
                if (k == null) { v.Unknown.Add(KeyIds[i]); continue; }
                string why = VerifyRaw(k, pae, Sigs[i]);
                if (why != null) throw new BundleException(Outcome.BadSignature, path, "key " + KeyIds[i] + ": signature does not verify: " + why);
                if (!k.ValidAt(now)) { v.Expired.Add(KeyIds[i]); continue; }
                if (!v.KeyIds.Contains(KeyIds[i])) v.KeyIds.Add(KeyIds[i]);
            }
            if (v.KeyIds.Count >= threshold) return v;
            if (v.Expired.Count > 0)
                throw new BundleException(Outcome.KeyOutsideValidity, path, "key " + v.Expired[0] + ": signing key is outside its validity window");
            if (v.KeyIds.Count > 0)
                throw new BundleException(Outcome.UnknownSigner, path, "not signed by a trusted key: " + v.KeyIds.Count + " of " + threshold + " required trusted keys signed");
            throw new BundleException(Outcome.UnknownSigner, path, "not signed by a trusted key: signed by " + v.Unknown.Count + " key(s), none of them trusted");
        }

        /// <summary>Checks one signature; null when it verifies, else why not.</summary>
        internal static string VerifyRaw(TrustedKeys.Key k, byte[] pae, byte[] sig)
        {
            var p = k.Public;
            switch (k.Algorithm)
            {
                case "ES256":
                case "ES384":
                    {
                        BigInteger r, s;
                        if (!Crypto.ParseDerSignature(sig, out r, out s)) return "ECDSA signature is not ASN.1 DER";
                        var d = Crypto.Hash(k.Algorithm == "ES256" ? "SHA256" : "SHA384", pae);
                        return Crypto.EcdsaVerify(p.Curve, p.X, p.Y, d, r, s) ? null : "invalid signature";
                    }
                case "EdDSA":
                    if (sig.Length != 64) return "Ed25519 signature has the wrong length";
                    return Crypto.Ed25519Verify(p.Ed, pae, sig) ? null : "invalid signature";
                case "PS256":
                    return Crypto.RsaPssVerify(p.N, p.E, "SHA256", 32, pae, sig) ? null : "invalid signature";
            }
            return "unsupported algorithm";
        }

        internal sealed class Statement { internal string Name, Sha256; internal long Size; }

        internal static Statement ParseStatement(byte[] data)
        {
            Json.JsonObject m;
            try { m = Json.ParseObject(data, true); }
            catch (Json.JsonException e) { throw Malformed(null, "archive statement: " + e.Message); }
            foreach (var k in new[] { "type", "name", "size", "sha256" }) if (!m.Has(k)) throw Malformed(null, "archive statement: " + k + " missing");
            foreach (var k in m.Keys) if (k != "type" && k != "name" && k != "size" && k != "sha256") throw Malformed(null, "archive statement: unknown member " + Json.Quote(k));
            var st = new Statement();
            string type = StrMember(m, "type", null);
            st.Name = StrMember(m, "name", null);
            st.Sha256 = StrMember(m, "sha256", null);
            var size = m.Get("size");
            BigInteger? n = size is Json.JsonNumber ? ((Json.JsonNumber)size).Integer() : (size == Json.Null ? (BigInteger?)BigInteger.Zero : null);
            if (n == null || n.Value > long.MaxValue || n.Value < long.MinValue) throw Malformed(null, "archive statement: member \"size\" has the wrong type");
            if (type != ArchiveStatementType) throw Malformed(null, "archive statement: type " + Json.Quote(type) + ", want \"" + ArchiveStatementType + "\"");
            bool ctl = false;
            foreach (char c in st.Name) ctl |= c < 0x20 || c == 0x7f;
            if (st.Name.Length == 0 || Encoding.UTF8.GetByteCount(st.Name) > 255 || st.Name.IndexOfAny(new[] { '/', '\\' }) >= 0 || ctl)
                throw Malformed(null, "archive statement: name is not a plain file name");
            if (n.Value.Sign < 0) throw Malformed(null, "archive statement: negative size");
            st.Size = (long)n.Value;
            if (!IsKeyId(st.Sha256)) throw Malformed(null, "archive statement: sha256 is not 64 lower-case hexadecimal digits");
            return st;
        }
    }

    /// <summary>manifest.json in its canonical encoding (spec §4).</summary>
    internal sealed class Manifest
    {
        internal const string Format = "scb-manifest/1";
        internal sealed class Entry { internal string Path, Sha256; internal long Size; }
        internal readonly List<Entry> Files = new List<Entry>();

        internal static bool Covers(string p) { return p != BundleFiles.Manifest && !p.StartsWith(BundleFiles.SignaturesDir, StringComparison.Ordinal); }

        static BundleException Bad(string why) { return new BundleException(Outcome.MalformedManifest, BundleFiles.Manifest, "invalid bundle: " + why); }

        internal static Manifest Parse(byte[] data)
        {
            Json.JsonObject m;
            try { m = Json.ParseFirst(data) as Json.JsonObject; }
            catch (Json.JsonException e) { throw Bad("malformed manifest: " + e.Message); }
            if (m == null) throw Bad("malformed manifest: not a JSON object");
            foreach (var k in m.Keys) if (k != "format" && k != "algorithm" && k != "files") throw Bad("malformed manifest: unknown field " + Json.Quote(k));
            if ((m.Get("format") as string) != Format) throw Bad("unsupported manifest format");
            if ((m.Get("algorithm") as string) != "sha256") throw Bad("unsupported digest algorithm");
            var man = new Manifest();
            var fl = m.Get("files");
            var list = fl as List<object>;
            if (list != null)
            {
                var seen = new HashSet<string>();
                foreach (var o in list)
                {
                    var e = o as Json.JsonObject;
                    if (e == null) throw Bad("malformed manifest: files entry is not an object");
                    foreach (var k in e.Keys) if (k != "path" && k != "size" && k != "sha256") throw Bad("malformed manifest: unknown field " + Json.Quote(k));
                    var path = e.Get("path") as string;
                    var size = e.Get("size") as Json.JsonNumber;
                    var sum = e.Get("sha256") as string;
                    if (path == null || size == null || sum == null) throw Bad("malformed manifest: wrong field types");
                    var why = BundleFiles.PathProblem(path);
                    if (why != null) throw Bad(Json.Quote(path) + ": unsafe path: " + why);
                    if (!Covers(path)) throw Bad("manifest lists " + path + ", which it cannot cover");
                    if (!seen.Add(path)) throw Bad("duplicate entry " + path);
                    var n = size.Integer();
                    if (n == null || n.Value > long.MaxValue) throw Bad("malformed manifest: size of " + path + " is not an integer");
                    if (n.Value.Sign < 0) throw Bad("negative size for " + path);
                    if (!Dsse.IsKeyId(sum)) throw Bad("malformed sha256 for " + path);
                    man.Files.Add(new Entry { Path = path, Size = (long)n.Value, Sha256 = sum });
                }
            }
            else if (fl != null && fl != Json.Null) throw Bad("malformed manifest: files is not an array");
            if (!PathValidator.Bytes(man.Encode(), data)) throw Bad("manifest is not in canonical form");
            return man;
        }

        internal byte[] Encode()
        {
            var sorted = new List<Entry>(Files);
            var cmp = new BundleFiles.ByteOrder();
            sorted.Sort((x, y) => cmp.Compare(x.Path, y.Path));
            var b = new StringBuilder("{\n  \"format\": ");
            Json.EncodeString(b, Format);
            b.Append(",\n  \"algorithm\": \"sha256\",\n  \"files\": ");
            if (sorted.Count == 0) return Encoding.UTF8.GetBytes(b.Append("[]\n}\n").ToString());
            b.Append("[\n");
            for (int i = 0; i < sorted.Count; i++)
            {
                b.Append("    {\n      \"path\": ");
                Json.EncodeString(b, sorted[i].Path);
                b.Append(",\n      \"size\": ").Append(sorted[i].Size.ToString(CultureInfo.InvariantCulture)).Append(",\n      \"sha256\": ");
                Json.EncodeString(b, sorted[i].Sha256);
                b.Append("\n    }").Append(i + 1 < sorted.Count ? ",\n" : "\n");
            }
            return Encoding.UTF8.GetBytes(b.Append("  ]\n}\n").ToString());
        }

        internal static Manifest Of(BundleFiles b)
        {
            var m = new Manifest();
            foreach (var p in b.Paths)
                if (Covers(p)) m.Files.Add(new Entry { Path = p, Size = b.Get(p).Length, Sha256 = Cert.Hex(Crypto.Hash("SHA256", b.Get(p))) });
            return m;
        }

        /// <summary>Problems between the files and the manifest (empty when they match).</summary>
        internal List<string> Check(BundleFiles b)
        {
            var problems = new List<string>();
            var listed = new HashSet<string>();
            foreach (var e in Files)
            {
                listed.Add(e.Path);
                var d = b.Get(e.Path);
                if (d == null) { problems.Add(e.Path + ": required file missing: listed in manifest but absent"); continue; }
                if (d.Length != e.Size || Cert.Hex(Crypto.Hash("SHA256", d)) != e.Sha256) problems.Add(e.Path + ": file does not match manifest");
            }
            foreach (var p in b.Paths) if (Covers(p) && !listed.Contains(p)) problems.Add(p + ": file does not match manifest: file not listed in manifest");
            foreach (var p in b.Paths)
                if (!Covers(p) && p != BundleFiles.Manifest && p != BundleFiles.Signature) problems.Add(p + ": file does not match manifest: file not covered by the manifest");
            return problems;
        }
    }

    /// <summary>The content of metadata.json that applications use.</summary>
    public sealed class BundleMetadata
    {
        /// <summary>One cluster the bundle connects to.</summary>
        public sealed class Cluster
        {
            /// <summary>Name.</summary>
            public string Name { get; internal set; }
            /// <summary>Datacenters.</summary>
            public IList<string> Datacenters { get; internal set; }
            /// <summary>Contact points as host:port.</summary>
            public IList<string> Endpoints { get; internal set; }
            /// <summary>"primary" or "failover".</summary>
            public string Role { get; internal set; }
        }

        /// <summary>bundle_version.</summary>
        public string BundleVersion { get; private set; }
        /// <summary>bundle_id.</summary>
        public string BundleId { get; private set; }
        /// <summary>cluster_name.</summary>
        public string ClusterName { get; private set; }
        /// <summary>client_id.</summary>
        public string ClientId { get; private set; }
        /// <summary>environment.</summary>
        public string Environment { get; private set; }
        /// <summary>generated_at, or null.</summary>
        public DateTime? GeneratedAt { get; private set; }
        /// <summary>expires_at (the client certificate's NotAfter).</summary>
        public DateTime ExpiresAt { get; private set; }
        /// <summary>clusters.</summary>
        public IList<Cluster> Clusters { get; private set; }
        /// <summary>ca.fingerprint_sha256.</summary>
        public string CaFingerprint { get; private set; }
        /// <summary>gateway.host.</summary>
        public string GatewayHost { get; private set; }
        /// <summary>gateway.metadata_port.</summary>
        public int GatewayMetadataPort { get; private set; }
        /// <summary>gateway.cql_port.</summary>
        public int GatewayCqlPort { get; private set; }

        static BundleException Bad(string why) { return new BundleException(Outcome.MalformedMetadata, BundleFiles.Metadata, "invalid bundle: " + why); }

        internal static BundleMetadata Parse(byte[] data)
        {
            Json.JsonObject m;
            try { m = Json.ParseFirst(data) as Json.JsonObject; }
            catch (Json.JsonException e) { throw Bad("malformed metadata: " + e.Message); }
            if (m == null) throw Bad("malformed metadata: not a JSON object");
            var md = new BundleMetadata
            {
                BundleVersion = Str(m, "bundle_version"), BundleId = Str(m, "bundle_id"), ClusterName = Str(m, "cluster_name"),
                ClientId = Str(m, "client_id"), Environment = Str(m, "environment"), GeneratedAt = Time(m, "generated_at"),
            };
            var exp = Time(m, "expires_at");
            Strings(m.Get("supported_drivers"), "supported_drivers");
            var clusters = new List<Cluster>();
            var cl = m.Get("clusters");
            if (cl is List<object>)
            {
                foreach (var o in (List<object>)cl)
                {
                    var c = Obj(o, "clusters");
                    clusters.Add(new Cluster { Name = Str(c, "name"), Datacenters = Strings(c.Get("datacenters"), "datacenters"), Endpoints = Strings(c.Get("endpoints"), "endpoints"), Role = Str(c, "role") });
                }
            }
            else if (cl != null && cl != Json.Null) throw Bad("member \"clusters\" has the wrong type");
            md.Clusters = clusters;
            var ca = Obj(m.Get("ca"), "ca");
            md.CaFingerprint = Str(ca, "fingerprint_sha256");
            Str(ca, "subject"); Time(ca, "not_after");
            var cc = Obj(m.Get("client_certificate"), "client_certificate");
            foreach (var f in new[] { "subject", "serial", "fingerprint_sha256", "key_type" }) Str(cc, f);
            Time(cc, "not_before"); Time(cc, "not_after");
            var gw = Obj(m.Get("gateway"), "gateway");
            md.GatewayHost = Str(gw, "host");
            md.GatewayMetadataPort = Int(gw, "metadata_port");
            md.GatewayCqlPort = Int(gw, "cql_port");
            Obj(m.Get("generator"), "generator");
            Obj(m.Get("parameters"), "parameters");
            if (md.BundleVersion.Length == 0) throw Bad("bundle_version missing");
            if (md.BundleVersion[0] != '1') throw Bad("unsupported bundle_version " + Json.Quote(md.BundleVersion) + " (this reader supports 1.0)");
            if (md.ClusterName.Length == 0 || md.ClientId.Length == 0 || exp == null) throw Bad("cluster_name, client_id and expires_at are required");
            md.ExpiresAt = exp.Value;
            return md;
        }

        static string Str(Json.JsonObject m, string k)
        {
            var v = m.Get(k);
            if (v == null || v == Json.Null) return "";
            var s = v as string;
            if (s == null) throw Bad("malformed metadata: member " + Json.Quote(k) + " has the wrong type");
            return s;
        }

        static int Int(Json.JsonObject m, string k)
        {
            var v = m.Get(k);
            if (v == null || v == Json.Null) return 0;
            var n = v is Json.JsonNumber ? ((Json.JsonNumber)v).Integer() : null;
            if (n == null || n.Value > long.MaxValue || n.Value < long.MinValue) throw Bad("malformed metadata: member " + Json.Quote(k) + " has the wrong type");
            return (int)(long)n.Value;
        }

        static Json.JsonObject Obj(object v, string k)
        {
            if (v == null || v == Json.Null) return new Json.JsonObject();
            var o = v as Json.JsonObject;
            if (o == null) throw Bad("malformed metadata: member " + Json.Quote(k) + " has the wrong type");
            return o;
        }

        static IList<string> Strings(object v, string k)
        {
            var o = new List<string>();
            if (v == null || v == Json.Null) return o;
            var l = v as List<object>;
            if (l == null) throw Bad("malformed metadata: member " + Json.Quote(k) + " has the wrong type");
            foreach (var x in l)
            {
                if (x == Json.Null) o.Add("");
                else if (x is string) o.Add((string)x);
                else throw Bad("malformed metadata: member " + Json.Quote(k) + " has the wrong type");
            }
            return o;
        }

        static readonly Regex Rfc3339 = new Regex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$");

        internal static DateTime? Time(Json.JsonObject m, string k)
        {
            var v = m.Get(k);
            if (v == null || v == Json.Null) return null;
            var s = v as string;
            if (s == null || !Rfc3339.IsMatch(s)) throw Bad("malformed metadata: member " + Json.Quote(k) + " is not an RFC 3339 time");
            DateTimeOffset t;
            if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out t))
                throw Bad("malformed metadata: member " + Json.Quote(k) + " is not an RFC 3339 time");
            var u = t.UtcDateTime;
            if (u == new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc)) return null;
            return DateTime.SpecifyKind(u, DateTimeKind.Utc);
        }

        /// <summary>No secrets here; a short summary.</summary>
        public override string ToString() { return "BundleMetadata{cluster=" + ClusterName + ", client=" + ClientId + ", environment=" + Environment + ", expiresAt=" + ExpiresAt.ToString("o", CultureInfo.InvariantCulture) + "}"; }
    }

    /// <summary>config/cassandra.yaml and config.json.</summary>
    internal sealed class ClientConfig
    {
        internal List<string> ContactPoints = new List<string>();
        internal string LocalDatacenter = "", ServerName = "", MinTls = "";
        internal bool ClientKeyEncrypted, HostnameVerification;

        static BundleException Bad(string why) { return new BundleException(Outcome.Inconsistent, BundleFiles.ClientYaml, "invalid bundle: " + why); }

        internal static ClientConfig Parse(byte[] data)
        {
            Dictionary<string, object> m;
            try { m = Yaml.ParseMapping(data); }
            catch (Yaml.YamlException e) { throw Bad("malformed YAML: " + e.Message); }
            var c = new ClientConfig();
            if (Get(m, "format") as string != "scb-client/1") throw Bad("unsupported format");
            var cps = Get(m, "contact_points");
            if (cps is List<object>) foreach (var o in (List<object>)cps) { if (!(o is string)) throw Bad("contact_points must be strings"); c.ContactPoints.Add((string)o); }
            else if (cps != null) throw Bad("contact_points must be a list");
            if (c.ContactPoints.Count == 0) throw Bad("no contact points");
            foreach (var cp in c.ContactPoints) { var why = Endpoint.Problem(cp); if (why != null) throw Bad(why); }
            c.LocalDatacenter = Str(m, "local_datacenter");
            var tv = Get(m, "tls");
            if (tv != null && !(tv is Dictionary<string, object>)) throw Bad("tls must be a mapping");
            var t = tv as Dictionary<string, object> ?? new Dictionary<string, object>();
            var paths = new[] { Str(t, "ca_cert"), Str(t, "client_cert"), Str(t, "client_key") };
            c.ClientKeyEncrypted = Bool(t, "client_key_encrypted");
            c.HostnameVerification = Bool(t, "hostname_verification");
            c.MinTls = Str(t, "min_version");
            c.ServerName = Str(t, "server_name");
            foreach (var p in paths) { var why = BundleFiles.PathProblem(p); if (why != null) throw Bad("tls path: unsafe path: " + why); }
            return c;
        }

        static object Get(Dictionary<string, object> m, string k) { object v; return m.TryGetValue(k, out v) ? v : null; }

        static string Str(Dictionary<string, object> m, string k)
        {
            var v = Get(m, k);
            if (v == null) return "";
            var s = v as string;
            if (s == null) throw Bad(k + " must be a scalar");
            return s;
        }

        static bool Bool(Dictionary<string, object> m, string k)
        {
            var v = Get(m, k) as string;
            if (v == null && Get(m, k) == null) return false;
            if (v == "true" || v == "True" || v == "TRUE") return true;
            if (v == "false" || v == "False" || v == "FALSE") return false;
            throw Bad(k + " must be true or false");
        }

        /// <summary>config.json; never printed.</summary>
        internal sealed class Cloud
        {
            internal string Host = "", LocalDC = "", KeyStorePassword = "", TrustStorePassword = "", PfxCertPassword = "", Username = "", Password = "";
            internal int Port, CqlPort;
            public override string ToString() { return "CloudConfig{host:" + Host + " port:" + Port + " passwords:<redacted>}"; }
        }

        internal static Cloud ParseCloud(byte[] data)
        {
            var bad = new BundleException(Outcome.Inconsistent, BundleFiles.CloudConfig, "invalid bundle: malformed JSON or wrong field type");
            Json.JsonObject m;
            try { m = Json.Parse(data, false) as Json.JsonObject; }
            catch (Json.JsonException) { throw bad; }
            if (m == null) throw bad;
            var c = new Cloud();
            try
            {
                c.Host = S(m, "host"); c.Port = I(m, "port"); c.CqlPort = I(m, "cql_port"); c.LocalDC = S(m, "localDC");
                foreach (var k in new[] { "caCertLocation", "keyLocation", "certLocation", "keyStoreLocation", "trustStoreLocation" }) S(m, k);
                c.KeyStorePassword = S(m, "keyStorePassword"); c.TrustStorePassword = S(m, "trustStorePassword");
                c.PfxCertPassword = S(m, "pfxCertPassword"); c.Username = S(m, "username"); c.Password = S(m, "password");
            }
            catch (ArgumentException) { throw bad; }
            if (c.Host.Length == 0 || c.Port <= 0 || c.Port > 65535)
                throw new BundleException(Outcome.Inconsistent, BundleFiles.CloudConfig, "invalid bundle: host and an integer port are required");
            return c;
        }

        static string S(Json.JsonObject m, string k)
        {
            var v = m.Get(k);
            if (v == null || v == Json.Null) return "";
            if (!(v is string)) throw new ArgumentException();
            return (string)v;
        }

        static int I(Json.JsonObject m, string k)
        {
            var v = m.Get(k);
            if (v == null || v == Json.Null) return 0;
            var n = v is Json.JsonNumber ? ((Json.JsonNumber)v).Integer() : null;
            if (n == null || n.Value > long.MaxValue || n.Value < long.MinValue) throw new ArgumentException();
            return n.Value > int.MaxValue || n.Value < int.MinValue ? -1 : (int)n.Value;
        }
    }

    /// <summary>HOST:PORT endpoints with the Go reader's rules.</summary>
    public sealed class Endpoint
    {
        /// <summary>IP address literal or DNS name.</summary>
        public string Host { get; private set; }
        /// <summary>Port 1..65535.</summary>
        public int Port { get; private set; }

        /// <summary>"host:port", or "[v6]:port".</summary>
        public override string ToString() { return (Host.Contains(":") ? "[" + Host + "]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture); }

        internal static string Problem(string s) { try { Parse(s); return null; } catch (ArgumentException e) { return e.Message; } }

        internal static Endpoint Parse(string raw)
        {
            string s = raw.Trim();
            string bad = "malformed endpoint " + Json.Quote(raw) + ": ", hint = " (want HOST:PORT, e.g. 10.0.0.5:9042)";
            if (s.Length == 0) throw new ArgumentException(bad + "empty" + hint);
            string h, p;
            if (s.StartsWith("[", StringComparison.Ordinal))
            {
                int e = s.IndexOf(']');
                if (e < 0 || e + 1 >= s.Length || s[e + 1] != ':') throw new ArgumentException(bad + "missing or invalid port" + hint);
                h = s.Substring(1, e - 1);
                p = s.Substring(e + 2);
                if (h.IndexOfAny(new[] { '[', ']' }) >= 0 || p.IndexOfAny(new[] { '[', ']' }) >= 0) throw new ArgumentException(bad + "missing or invalid port" + hint);
            }
            else
            {
                int c = s.LastIndexOf(':');
                if (c < 0 || s.IndexOf(':') != c || s.IndexOfAny(new[] { '[', ']' }) >= 0) throw new ArgumentException(bad + "missing or invalid port" + hint);
                h = s.Substring(0, c);
                p = s.Substring(c + 1);
            }
            int port;
            if (!int.TryParse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535)
                throw new ArgumentException(bad + "port must be a number from 1 to 65535" + hint);
            if (h.Length == 0) throw new ArgumentException(bad + "empty host" + hint);
            System.Net.IPAddress ip;
            bool isIp = System.Net.IPAddress.TryParse(h, out ip) && (h.Contains(":") || h.Split('.').Length == 4) && !h.Contains("%");
            if (!isIp && !ValidDnsName(h)) throw new ArgumentException(bad + "host is neither an IP address nor a DNS name" + hint);
            return new Endpoint { Host = h, Port = port };
        }

        static bool ValidDnsName(string h)
        {
            if (h.Length > 253 || h.StartsWith(".", StringComparison.Ordinal) || h.EndsWith(".", StringComparison.Ordinal)) return false;
            foreach (var label in h.Split('.'))
            {
                if (label.Length == 0 || label.Length > 63 || label[0] == '-' || label[label.Length - 1] == '-') return false;
                foreach (char r in label)
                    if (!(r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))) return false;
            }
            return true;
        }
    }
}
