using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace ScbKit.Loader
{
    /// <summary>The verification steps, in report order.</summary>
    public enum Check { DetachedSignature, Archive, Completeness, Signature, Manifest, Chain, Validity, Consistency }

    /// <summary>The status of one check.</summary>
    public enum CheckStatus { Pass, Warn, Fail, Skip }

    /// <summary>Wire names of checks.</summary>
    public static class CheckNames
    {
        static readonly string[] names = { "detached_signature", "archive", "completeness", "signature", "manifest", "chain", "validity", "consistency" };
        /// <summary>The check's name in the vector corpus, e.g. "signature".</summary>
        public static string WireName(this Check c) { return names[(int)c]; }
    }

    /// <summary>Options for verification. The defaults: now, threshold 1, warn 30 days before expiry.</summary>
    public sealed class VerifyOptions
    {
        /// <summary>Verification time (UTC); null means now.</summary>
        public DateTime? Now { get; set; }
        /// <summary>How many distinct trusted keys must have signed (at least 1).</summary>
        public int Threshold { get; set; }
        /// <summary>Warn about certificates expiring within this (zero or negative: never).</summary>
        public TimeSpan ExpiryWarning { get; set; }
        /// <summary>Fail (outcome error) instead of skipping the signature check when no keys are given.</summary>
        public bool RequireSignature { get; set; }
        /// <summary>Archive limits.</summary>
        public Limits Limits { get; set; }
        /// <summary>Opens an encrypted certificates/client-key.pem for the consistency check. Never printed.</summary>
        public byte[] KeyPassphrase { get; set; }

        /// <summary>Defaults.</summary>
        public VerifyOptions() { Threshold = 1; ExpiryWarning = TimeSpan.FromDays(30); Limits = Limits.Default; }

        internal DateTime ResolvedNow() { return Now.HasValue ? Now.Value.ToUniversalTime() : DateTime.UtcNow; }

        /// <summary>Never shows the passphrase.</summary>
        public override string ToString() { return "VerifyOptions{Now=" + Now + ", Threshold=" + Threshold + ", KeyPassphrase=" + (KeyPassphrase == null ? "<none>" : "<redacted>") + "}"; }
    }

    /// <summary>
    /// The result of verifying a bundle, check by check (detached_signature, archive,
    /// completeness, signature, manifest, chain, validity, consistency). The outcome is valid or
    /// that of the first failing check.
    /// </summary>
    public sealed class VerificationReport
    {
        /// <summary>One check's result.</summary>
        public sealed class Result
        {
            /// <summary>The check.</summary>
            public Check Check { get; internal set; }
            /// <summary>Its status.</summary>
            public CheckStatus Status { get; internal set; }
            /// <summary>The failure class (Valid unless Status is Fail).</summary>
            public Outcome Outcome { get; internal set; }
            /// <summary>One line for people.</summary>
            public string Message { get; internal set; }
            /// <summary>The bundle path concerned, or null.</summary>
            public string Path { get; internal set; }
            /// <summary>A line: check, status, outcome, message.</summary>
            public override string ToString() { return Check.WireName() + ": " + Status.ToString().ToLowerInvariant() + (Status == CheckStatus.Fail ? " (" + Outcome.WireName() + ")" : "") + ": " + Message; }
        }

        readonly List<Result> results = new List<Result>();
        internal readonly List<string> signedBy = new List<string>();

        /// <summary>The verification time.</summary>
        public DateTime Time { get; private set; }
        internal VerificationReport(DateTime t) { Time = t; }

        internal void Add(Check c, CheckStatus s, Outcome o, string msg, string path)
        {
            results.Add(new Result { Check = c, Status = s, Outcome = s == CheckStatus.Fail ? o : Outcome.Valid, Message = msg, Path = path });
        }

        internal void Fail(Check c, BundleException e) { Add(c, CheckStatus.Fail, e.Outcome, e.Message, e.BundlePath); }

        internal bool Failed(Check c) { foreach (var r in results) if (r.Check == c && r.Status == CheckStatus.Fail) return true; return false; }

        /// <summary>Every result, in order.</summary>
        public IList<Result> Results { get { return results.AsReadOnly(); } }
        /// <summary>The first failure, or null.</summary>
        public Result FirstFailure { get { foreach (var r in results) if (r.Status == CheckStatus.Fail) return r; return null; } }
        /// <summary>True when nothing failed.</summary>
        public bool IsValid { get { return FirstFailure == null; } }
        /// <summary>Valid, or the outcome of the first failure.</summary>
        public Outcome Outcome { get { var f = FirstFailure; return f == null ? Outcome.Valid : f.Outcome; } }
        /// <summary>The trusted key ids whose signatures counted (manifest signature).</summary>
        public IList<string> SignedBy { get { return signedBy.AsReadOnly(); } }

        /// <summary>Throws a <see cref="BundleException"/> for the first failure, if any.</summary>
        public void ThrowIfInvalid()
        {
            var f = FirstFailure;
            if (f != null) throw new BundleException(f.Outcome, null, f.Check.WireName() + ": " + f.Message);
        }

        /// <summary>All results, one per line.</summary>
        public override string ToString()
        {
            var l = new List<string> { "VerificationReport{" + Outcome.WireName() + "}" };
            foreach (var r in results) l.Add("  " + r);
            return string.Join("\n", l);
        }
    }

    /// <summary>The checks of spec/bundle-format.md §6, in the Go verifier's order.</summary>
    internal sealed class Verifier
    {
        readonly BundleFiles b;
        readonly TrustedKeys keys;
        readonly VerifyOptions opts;
        readonly VerificationReport r;
        readonly DateTime now;
        BundleMetadata meta;
        List<Cert> path;

        Verifier(BundleFiles b, TrustedKeys keys, VerifyOptions opts, VerificationReport r)
        {
            this.b = b; this.keys = keys; this.opts = opts; this.r = r; now = r.Time;
        }

        internal static VerificationReport VerifyPath(string p, byte[] detached, TrustedKeys keys, VerifyOptions opts)
        {
            var rep = new VerificationReport(opts.ResolvedNow());
            if (Directory.Exists(p))
            {
                if (detached != null) { rep.Add(Check.DetachedSignature, CheckStatus.Fail, Outcome.Error, "a directory cannot carry a detached signature", null); return rep; }
                BundleFiles bf;
                try { bf = BundleFiles.Read(p, opts.Limits); }
                catch (BundleException e) { rep.Fail(Check.Archive, e); return rep; }
                rep.Add(Check.Archive, CheckStatus.Pass, Outcome.Valid, "directory with " + bf.Count + " files", null);
                return new Verifier(bf, keys, opts, rep).Run();
            }
            byte[] archive;
            try
            {
                var fi = new FileInfo(p);
                if (!fi.Exists) { rep.Add(Check.Archive, CheckStatus.Fail, Outcome.Error, "cannot read " + p + ": no such file", null); return rep; }
                if (fi.Length > opts.Limits.MaxArchiveSize)
                {
                    rep.Add(Check.Archive, CheckStatus.Fail, Outcome.TooLarge, "archive exceeds size limits: archive is " + fi.Length + " bytes", null);
                    return rep;
                }
                archive = File.ReadAllBytes(p);
            }
            catch (Exception e) { rep.Add(Check.Archive, CheckStatus.Fail, Outcome.Error, "cannot read " + p + ": " + e.GetType().Name, null); return rep; }
            return VerifyArchive(archive, detached, keys, opts);
        }

        internal static VerificationReport VerifyArchive(byte[] archive, byte[] detached, TrustedKeys keys, VerifyOptions opts)
        {
            var rep = new VerificationReport(opts.ResolvedNow());
            if (archive.Length > opts.Limits.MaxArchiveSize)
            {
                rep.Add(Check.Archive, CheckStatus.Fail, Outcome.TooLarge, "archive exceeds size limits", null);
                return rep;
            }
            if (!Detached(rep, archive, detached, keys, opts)) return rep;
            BundleFiles bf;
            try { bf = BundleFiles.Decode(archive, opts.Limits); }
            catch (BundleException e) { rep.Fail(Check.Archive, e); return rep; }
            rep.Add(Check.Archive, CheckStatus.Pass, Outcome.Valid, archive.Length + " bytes, " + bf.Count + " files, every path safe", null);
            return new Verifier(bf, keys, opts, rep).Run();
        }

        internal static VerificationReport Verify(BundleFiles bf, TrustedKeys keys, VerifyOptions opts)
        {
            return new Verifier(bf, keys, opts, new VerificationReport(opts.ResolvedNow())).Run();
        }

        static bool Detached(VerificationReport rep, byte[] archive, byte[] sig, TrustedKeys keys, VerifyOptions opts)
        {
            if (sig == null) { rep.Add(Check.DetachedSignature, CheckStatus.Skip, Outcome.Valid, "no detached signature", null); return true; }
            if (keys == null || keys.Count == 0)
            {
                if (opts.RequireSignature) { rep.Add(Check.DetachedSignature, CheckStatus.Fail, Outcome.Error, "a signature is required but no trusted keys were given", null); return false; }
                rep.Add(Check.DetachedSignature, CheckStatus.Warn, Outcome.Valid, "detached signature present, but no trusted keys were given: it was not checked", null);
                return true;
            }
            try
            {
                var env = Dsse.Parse(sig, null);
                if (env.PayloadType != Dsse.PayloadTypeArchive)
                    throw new BundleException(Outcome.BadSignature, null, "signature does not verify: payloadType is " + Json.Quote(env.PayloadType));
                var st = Dsse.ParseStatement(env.Payload);
                if (st.Size != archive.Length || st.Sha256 != Cert.Hex(Crypto.Hash("SHA256", archive)))
                    throw new BundleException(Outcome.DigestMismatch, null, "archive does not match its detached signature: signed for " + st.Size + " bytes with SHA-256 " + st.Sha256);
                var ok = env.Verify(keys, rep.Time, opts.Threshold);
                rep.Add(Check.DetachedSignature, CheckStatus.Pass, Outcome.Valid, "archive " + Json.Quote(st.Name) + " signed by " + ok.KeyIds.Count + " trusted key(s)", null);
                return true;
            }
            catch (BundleException e) { rep.Fail(Check.DetachedSignature, e); return false; }
        }

        VerificationReport Run()
        {
            Completeness(); Signature(); ManifestCheck(); Chain(); Validity(); Consistency();
            return r;
        }

        static string Summary(List<string> p)
        {
            if (p.Count == 1) return p[0];
            var s = p.Count + " problems: " + string.Join("; ", p.GetRange(0, Math.Min(3, p.Count)).ToArray());
            return p.Count > 3 ? s + "; …" : s;
        }

        static string Stamp(DateTime t) { return t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture); }

        void Completeness()
        {
            var need = new List<string>(BundleFiles.Required);
            if (b.Has(BundleFiles.Metadata))
            {
                try { meta = BundleMetadata.Parse(b.Get(BundleFiles.Metadata)); }
                catch (BundleException e) { r.Fail(Check.Completeness, e); return; }
                need.Add(BundleFiles.ConnectionProfilePath(meta.Environment));
            }
            int stock = 0;
            foreach (var p in BundleFiles.Stock) if (b.Has(p)) stock++;
            if (stock > 0) need.AddRange(BundleFiles.Stock);
            var problems = new List<string>();
            string first = null;
            foreach (var p in need)
            {
                var d = b.Get(p);
                if (d != null && d.Length > 0) continue;
                problems.Add(p + (d == null ? ": required file missing" : ": required file is empty"));
                if (first == null) first = p;
            }
            if (problems.Count > 0) { r.Add(Check.Completeness, CheckStatus.Fail, Outcome.Incomplete, Summary(problems), first); return; }
            r.Add(Check.Completeness, CheckStatus.Pass, Outcome.Valid, b.Count + " files, every required file present", null);
        }

        void Signature()
        {
            bool signed = b.Has(BundleFiles.Signature);
            if (keys == null || keys.Count == 0)
            {
                if (opts.RequireSignature) r.Add(Check.Signature, CheckStatus.Fail, Outcome.Error, "a signature is required but no trusted keys were given", null);
                else if (signed) r.Add(Check.Signature, CheckStatus.Warn, Outcome.Valid, "signed, but no trusted keys were given: the signature was not checked", BundleFiles.Signature);
                else r.Add(Check.Signature, CheckStatus.Skip, Outcome.Valid, "not signed, and no trusted keys were given", null);
                return;
            }
            if (!b.Has(BundleFiles.Manifest)) { r.Add(Check.Signature, CheckStatus.Skip, Outcome.Valid, "no manifest.json to verify", null); return; }
            if (!signed) { r.Add(Check.Signature, CheckStatus.Fail, Outcome.Unsigned, "the bundle is not signed, and trusted keys were given", BundleFiles.Signature); return; }
            try
            {
                var env = Dsse.Parse(b.Get(BundleFiles.Signature), BundleFiles.Signature);
                if (env.PayloadType != Dsse.PayloadTypeManifest)
                    throw new BundleException(Outcome.BadSignature, BundleFiles.Signature, "signature does not verify: payloadType is " + Json.Quote(env.PayloadType));
                if (!PathValidator.Bytes(env.Payload, b.Get(BundleFiles.Manifest)))
                    throw new BundleException(Outcome.BadSignature, BundleFiles.Signature, "signature does not verify: the signed payload is not this bundle's manifest.json");
                var ok = env.Verify(keys, now, opts.Threshold);
                r.signedBy.AddRange(ok.KeyIds);
                r.Add(Check.Signature, CheckStatus.Pass, Outcome.Valid, "signed by " + ok.KeyIds.Count + " trusted key(s): " + string.Join(", ", ok.KeyIds.ToArray()), BundleFiles.Signature);
            }
            catch (BundleException e) { r.Fail(Check.Signature, e); }
        }

        void ManifestCheck()
        {
            var data = b.Get(BundleFiles.Manifest);
            if (data == null) { r.Add(Check.Manifest, CheckStatus.Skip, Outcome.Valid, "no manifest.json", null); return; }
            Manifest m;
            try { m = Manifest.Parse(data); }
            catch (BundleException e) { r.Fail(Check.Manifest, e); return; }
            var problems = m.Check(b);
            if (problems.Count > 0)
            {
                r.Add(Check.Manifest, CheckStatus.Fail, Outcome.DigestMismatch, Summary(problems), problems[0].Substring(0, problems[0].IndexOf(": ", StringComparison.Ordinal)));
                return;
            }
            r.Add(Check.Manifest, CheckStatus.Pass, Outcome.Valid, m.Files.Count + " files match manifest.json", null);
        }

        void Chain()
        {
            var rootsPem = b.Get(BundleFiles.CaCert);
            var chainPem = b.Get(BundleFiles.ClientCert);
            if (rootsPem == null || chainPem == null || rootsPem.Length == 0 || chainPem.Length == 0) { r.Add(Check.Chain, CheckStatus.Skip, Outcome.Valid, "certificate files missing", null); return; }
            List<Cert> roots, chain;
            try { roots = Pem.Certificates(rootsPem); }
            catch (Cert.CertException e) { r.Add(Check.Chain, CheckStatus.Fail, Outcome.ChainInvalid, BundleFiles.CaCert + ": certificate chain does not verify: " + e.Message, BundleFiles.CaCert); return; }
            try { chain = Pem.Certificates(chainPem); }
            catch (Cert.CertException e) { r.Add(Check.Chain, CheckStatus.Fail, Outcome.ChainInvalid, BundleFiles.ClientCert + ": certificate chain does not verify: " + e.Message, BundleFiles.ClientCert); return; }
            var leaf = chain[0];
            var at = now < leaf.NotBefore ? leaf.NotBefore : now > leaf.NotAfter ? leaf.NotAfter : now;
            try { path = PathValidator.Build(leaf, chain.GetRange(1, chain.Count - 1), roots, at, PathValidator.ClientAuth); }
            catch (Cert.CertException e)
            {
                r.Add(Check.Chain, CheckStatus.Fail, Outcome.ChainInvalid, BundleFiles.ClientCert + ": certificate chain does not verify: not issued by " + BundleFiles.CaCert + " for client authentication: " + e.Message, BundleFiles.ClientCert);
                return;
            }
            if (meta != null && meta.CaFingerprint != roots[0].Fingerprint())
            {
                path = null;
                r.Add(Check.Chain, CheckStatus.Fail, Outcome.ChainInvalid, BundleFiles.Metadata + ": certificate chain does not verify: ca.fingerprint_sha256 is not the fingerprint of the first certificate in " + BundleFiles.CaCert, BundleFiles.Metadata);
                return;
            }
            r.Add(Check.Chain, CheckStatus.Pass, Outcome.Valid, "client certificate chains to " + path[path.Count - 1].SubjectText + " for client authentication", BundleFiles.ClientCert);
        }

        void Validity()
        {
            var certs = path;
            if (certs == null)
            {
                try { certs = new List<Cert> { Pem.Certificates(b.Get(BundleFiles.ClientCert) ?? new byte[0])[0] }; }
                catch (Cert.CertException) { r.Add(Check.Validity, CheckStatus.Skip, Outcome.Valid, "no readable client certificate", null); return; }
            }
            for (int i = 0; i < certs.Count; i++)
            {
                var c = certs[i];
                string name = i == 0 ? "client certificate" : (i == certs.Count - 1 && path != null ? "CA certificate" : "intermediate certificate");
                string p = (i == certs.Count - 1 && path != null && i > 0) ? BundleFiles.CaCert : BundleFiles.ClientCert;
                if (now < c.NotBefore) { r.Add(Check.Validity, CheckStatus.Fail, Outcome.NotYetValid, p + ": certificate is not valid yet: " + name + " valid from " + Stamp(c.NotBefore), p); return; }
                if (now > c.NotAfter) { r.Add(Check.Validity, CheckStatus.Fail, Outcome.Expired, p + ": certificate has expired: " + name + " expired at " + Stamp(c.NotAfter), p); return; }
            }
            int first = 0;
            for (int i = 0; i < certs.Count; i++) if (certs[i].NotAfter < certs[first].NotAfter) first = i;
            var left = certs[first].NotAfter - now;
            string msg = "expires at " + Stamp(certs[first].NotAfter) + ", in " + (int)left.TotalDays + " days";
            if (opts.ExpiryWarning > TimeSpan.Zero && left < opts.ExpiryWarning) r.Add(Check.Validity, CheckStatus.Warn, Outcome.Valid, msg, null);
            else r.Add(Check.Validity, CheckStatus.Pass, Outcome.Valid, msg, null);
        }

        void Consistency()
        {
            if (r.Failed(Check.Completeness)) { r.Add(Check.Consistency, CheckStatus.Skip, Outcome.Valid, "the bundle is incomplete", null); return; }
            var problems = new List<KeyValuePair<string, string>>();
            bool skipped = ConsistencyProblems(b, opts.KeyPassphrase, problems);
            if (problems.Count > 0)
            {
                var msgs = new List<string>();
                foreach (var p in problems) msgs.Add(p.Key + ": " + p.Value);
                r.Add(Check.Consistency, CheckStatus.Fail, Outcome.Inconsistent, Summary(msgs), problems[0].Key);
                return;
            }
            if (skipped) { r.Add(Check.Consistency, CheckStatus.Warn, Outcome.Valid, "the client key is encrypted and no passphrase was given: it was not compared with the certificate", BundleFiles.ClientKey); return; }
            r.Add(Check.Consistency, CheckStatus.Pass, Outcome.Valid, "certificates and keys agree across every file that holds them", null);
        }

        static byte[] Need(BundleFiles b, string p, List<KeyValuePair<string, string>> o)
        {
            var d = b.Get(p);
            if (d == null) { o.Add(new KeyValuePair<string, string>(p, "required file missing")); return null; }
            if (d.Length == 0) { o.Add(new KeyValuePair<string, string>(p, "required file is empty")); return null; }
            return d;
        }

        static string Strip(BundleException e)
        {
            var m = e.Message;
            return e.BundlePath != null && m.StartsWith(e.BundlePath + ": ", StringComparison.Ordinal) ? m.Substring(e.BundlePath.Length + 2) : m;
        }

        internal static bool ConsistencyProblems(BundleFiles b, byte[] passphrase, List<KeyValuePair<string, string>> o)
        {
            Action<string, string> add = (p, m) => o.Add(new KeyValuePair<string, string>(p, m));
            BundleMetadata meta;
            try { meta = BundleMetadata.Parse(b.Get(BundleFiles.Metadata) ?? new byte[0]); }
            catch (BundleException e) { add(BundleFiles.Metadata, Strip(e)); return false; }
            ClientConfig cfg = null;
            var yaml = Need(b, BundleFiles.ClientYaml, o);
            if (yaml != null) { try { cfg = ClientConfig.Parse(yaml); } catch (BundleException e) { add(BundleFiles.ClientYaml, Strip(e)); } }
            var rootsPem = Need(b, BundleFiles.CaCert, o);
            if (rootsPem == null) return false;
            List<Cert> roots;
            try { roots = Pem.Certificates(rootsPem); } catch (Cert.CertException e) { add(BundleFiles.CaCert, "invalid bundle: " + e.Message); return false; }
            var chainPem = Need(b, BundleFiles.ClientCert, o);
            if (chainPem == null) return false;
            Cert leaf;
            try { leaf = Pem.Certificates(chainPem)[0]; } catch (Cert.CertException e) { add(BundleFiles.ClientCert, "invalid bundle: " + e.Message); return false; }
            if (leaf.NotAfter != meta.ExpiresAt) add(BundleFiles.Metadata, "invalid bundle: expires_at " + Stamp(meta.ExpiresAt) + " differs from the client certificate's " + Stamp(leaf.NotAfter));
            var keyPem = Need(b, BundleFiles.ClientKey, o);
            if (keyPem == null) return false;
            bool encrypted = Pem.IsEncryptedKey(keyPem);
            if (cfg != null && cfg.ClientKeyEncrypted != encrypted) add(BundleFiles.ClientYaml, "invalid bundle: client_key_encrypted does not match " + BundleFiles.ClientKey);
            if (encrypted && (passphrase == null || passphrase.Length == 0)) { CheckStock(b, leaf, chainPem, roots, o); return true; }
            try
            {
                var pub = Keys.PublicOfPem(keyPem, passphrase);
                if (!pub.SameKey(leaf.Key)) add(BundleFiles.ClientKey, "invalid bundle: private key does not match the client certificate");
            }
            catch (KeyException e) { add(BundleFiles.ClientKey, e.Message); return false; }
            CheckStock(b, leaf, chainPem, roots, o);
            return false;
        }

        static void CheckStock(BundleFiles b, Cert leaf, byte[] chainPem, List<Cert> roots, List<KeyValuePair<string, string>> o)
        {
            Action<string, string> add = (p, m) => o.Add(new KeyValuePair<string, string>(p, m));
            int present = 0;
            foreach (var p in BundleFiles.Stock) if (b.Has(p)) present++;
            if (present == 0) return;
            for (int i = 0; i < 5; i++) Need(b, BundleFiles.Stock[i], o);
            if (b.Has(BundleFiles.CloudIdentity) != b.Has(BundleFiles.CloudTrustStore)) { Need(b, BundleFiles.CloudIdentity, o); Need(b, BundleFiles.CloudTrustStore, o); }
            var ccData = b.Get(BundleFiles.CloudConfig);
            if (ccData == null || ccData.Length == 0) return;
            ClientConfig.Cloud cc;
            try { cc = ClientConfig.ParseCloud(ccData); } catch (BundleException e) { add(BundleFiles.CloudConfig, Strip(e)); return; }
            var caCrt = b.Get(BundleFiles.CloudCa);
            if (caCrt != null)
            {
                try
                {
                    var cas = Pem.Certificates(caCrt);
                    if (cas.Count != 1) add(BundleFiles.CloudCa, "invalid bundle: must hold exactly one certificate, holds " + cas.Count);
                    else if (!Cert.Same(cas[0], roots[0])) add(BundleFiles.CloudCa, "invalid bundle: differs from the first certificate of " + BundleFiles.CaCert);
                    else if (!cas[0].IsCA || cas[0].Key == null || !cas[0].Key.VerifyCertSignature(cas[0].SigAlg, cas[0].Tbs, cas[0].Signature))
                        add(BundleFiles.CloudCa, "invalid bundle: is not a self-signed root");
                }
                catch (Cert.CertException e) { add(BundleFiles.CloudCa, "invalid bundle: " + e.Message); }
            }
            var cert = b.Get(BundleFiles.CloudCert);
            if (cert != null && !PathValidator.Bytes(cert, chainPem)) add(BundleFiles.CloudCert, "invalid bundle: differs from " + BundleFiles.ClientCert);
            var key = b.Get(BundleFiles.CloudKey);
            if (key != null && key.Length > 0)
            {
                try { if (!Keys.PublicOfPem(key, null).SameKey(leaf.Key)) add(BundleFiles.CloudKey, "invalid bundle: does not match the client certificate"); }
                catch (KeyException e) { add(BundleFiles.CloudKey, e.Message); }
            }
            var pfx = b.Get(BundleFiles.CloudPfx);
            if (pfx != null && pfx.Length > 0) SameIdentity(BundleFiles.CloudPfx, pfx, cc.PfxCertPassword, "pfxCertPassword", leaf, o);
            var id = b.Get(BundleFiles.CloudIdentity);
            if (id != null && id.Length > 0) SameIdentity(BundleFiles.CloudIdentity, id, cc.KeyStorePassword, "keyStorePassword", leaf, o);
            var ts = b.Get(BundleFiles.CloudTrustStore);
            if (ts != null && ts.Length > 0)
            {
                try
                {
                    var st = OpenStore(ts, cc.TrustStorePassword);
                    bool found = false;
                    foreach (var c in st.Trusted) found |= Cert.Same(c, roots[0]);
                    if (!found) add(BundleFiles.CloudTrustStore, "invalid bundle: does not hold the CA certificate");
                }
                catch (Exception) { add(BundleFiles.CloudTrustStore, "invalid bundle: cannot be opened with trustStorePassword from config.json"); }
            }
        }

        /// <summary>A JKS store, or a PKCS#12 one (Java reads both as "JKS").</summary>
        internal static Keys.Store OpenStore(byte[] data, string password)
        {
            if (data.Length >= 4 && data[0] == 0xfe && data[1] == 0xed && data[2] == 0xfe && data[3] == 0xed) return Keys.OpenJks(data, password);
            return Keys.OpenPkcs12(data, password);
        }

        static void SameIdentity(string p, byte[] data, string password, string field, Cert leaf, List<KeyValuePair<string, string>> o)
        {
            Keys.Store st;
            try { st = OpenStore(data, password); }
            catch (Keys.UnsupportedPkcs12)
            {
                // Legacy PKCS#12 encryption (e.g. 3DES): let the platform open it.
                try
                {
                    var x = new System.Security.Cryptography.X509Certificates.X509Certificate2(data, password);
                    if (!PathValidator.Bytes(x.RawData, leaf.Raw)) o.Add(new KeyValuePair<string, string>(p, "invalid bundle: holds a different certificate than " + BundleFiles.ClientCert));
                    else if (!x.HasPrivateKey) o.Add(new KeyValuePair<string, string>(p, "invalid bundle: holds no private key"));
                }
                catch (Exception) { o.Add(new KeyValuePair<string, string>(p, "invalid bundle: cannot be opened with " + field + " from config.json")); }
                return;
            }
            catch (Exception) { o.Add(new KeyValuePair<string, string>(p, "invalid bundle: cannot be opened with " + field + " from config.json")); return; }
            if (st.KeyEntries.Count == 0) { o.Add(new KeyValuePair<string, string>(p, "invalid bundle: holds a different certificate than " + BundleFiles.ClientCert)); return; }
            var e = st.KeyEntries[0];
            if (e.Value.Count == 0 || !Cert.Same(e.Value[0], leaf)) { o.Add(new KeyValuePair<string, string>(p, "invalid bundle: holds a different certificate than " + BundleFiles.ClientCert)); return; }
            if (!e.Key.SameKey(leaf.Key)) o.Add(new KeyValuePair<string, string>(p, "invalid bundle: holds a different private key than " + BundleFiles.ClientKey));
        }
    }
}
