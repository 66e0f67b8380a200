using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ScbKit.Loader
{
    /// <summary>Options for <see cref="ScbBundle.Load(string, LoadOptions)"/>.</summary>
    public sealed class LoadOptions
    {
        /// <summary>User name that takes precedence over config.json and the environment.</summary>
        public string Username { get; set; }
        /// <summary>Password that goes with <see cref="Username"/>. Never printed.</summary>
        public string Password { get; set; }
        /// <summary>
        /// Environment to fall back to for SCB_USERNAME / SCB_PASSWORD when neither the caller nor
        /// config.json gives credentials; null means none (the library reads no environment by
        /// itself; <see cref="ScbBundle.Load(string)"/> passes the process environment).
        /// </summary>
        public IDictionary<string, string> Environment { get; set; }
        /// <summary>Verify every bundle against these keys before using it (from outside the bundle).</summary>
        public TrustedKeys TrustedKeys { get; set; }
        /// <summary>Options for that verification.</summary>
        public VerifyOptions VerifyOptions { get; set; }
        /// <summary>Archive limits.</summary>
        public Limits Limits { get; set; }
        /// <summary>The time for validity checks (UTC); null means now.</summary>
        public DateTime? Now { get; set; }
        /// <summary>Opens an encrypted certificates/client-key.pem (to compare it with the certificate). Never printed.</summary>
        public byte[] KeyPassphrase { get; set; }
        /// <summary>
        /// Loads bundles whose client certificate has expired or is not yet valid. FOR TESTS ONLY:
        /// the cluster refuses such a certificate anyway; production code must never set it.
        /// </summary>
        public bool InsecureAllowExpired { get; set; }

        /// <summary>Never shows secrets.</summary>
        public override string ToString() { return "LoadOptions{Username=" + Username + ", Password=" + (Password == null ? "<none>" : "<redacted>") + ", KeyPassphrase=" + (KeyPassphrase == null ? "<none>" : "<redacted>") + "}"; }
    }

    /// <summary>
    /// A loaded, checked scbkit secure connection bundle: the certificates as
    /// <see cref="X509Certificate2"/>, a server-certificate validation callback pinned to the
    /// bundle CA, contact points, local datacenter, credentials, and verification against trusted
    /// keys. Nothing is extracted to disk.
    /// </summary>
    public sealed class ScbBundle
    {
        /// <summary>Environment variable for the user name (see <see cref="Load(string)"/>).</summary>
        public const string EnvUsername = "SCB_USERNAME";
        /// <summary>Environment variable for the password.</summary>
        public const string EnvPassword = "SCB_PASSWORD";

        readonly BundleFiles files;
        readonly List<Cert> roots;
        readonly string pfxPassword;
        X509Certificate2 clientCertificate;

        /// <summary>The bundle file or directory.</summary>
        public string BundlePath { get; private set; }
        /// <summary>The parsed metadata.json.</summary>
        public BundleMetadata Metadata { get; private set; }
        /// <summary>Contact points of config/cassandra.yaml, in order.</summary>
        public IList<Endpoint> ContactPoints { get; private set; }
        /// <summary>The client's local datacenter.</summary>
        public string LocalDatacenter { get; private set; }
        /// <summary>Whether the bundle asks for server host-name verification.</summary>
        public bool HostnameVerification { get; private set; }
        /// <summary>Name to verify server certificates against instead of the contact point's host, or null.</summary>
        public string ServerName { get; private set; }
        /// <summary>User name, or null.</summary>
        public string Username { get; private set; }
        /// <summary>Password, or null. Never printed by this class.</summary>
        public string Password { get; private set; }
        /// <summary>The bundle's trust anchors (certificates/ca-cert.pem).</summary>
        public X509Certificate2Collection CaCertificates { get; private set; }
        /// <summary>The client certificate without its key (certificates/client-cert.pem, first block).</summary>
        public X509Certificate2 ClientCertificateWithoutKey { get; private set; }
        /// <summary>The archive bytes that were checked (null for a directory).</summary>
        public byte[] ArchiveBytes { get; private set; }

        ScbBundle(BundleFiles files, List<Cert> roots, string pfxPassword)
        {
            this.files = files;
            this.roots = roots;
            this.pfxPassword = pfxPassword;
        }

        /// <summary>
        /// Loads with the defaults; credentials from config.json when present, else from the
        /// environment variables SCB_USERNAME / SCB_PASSWORD (either may be absent).
        /// </summary>
        public static ScbBundle Load(string path)
        {
            var env = new Dictionary<string, string>();
            foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string)e.Value;
            return Load(path, new LoadOptions { Environment = env });
        }

        /// <summary>Loads and checks the bundle at path (zip, tar.gz or directory).</summary>
        public static ScbBundle Load(string path, LoadOptions options)
        {
            var o = options ?? new LoadOptions();
            var lim = o.Limits ?? Limits.Default;
            byte[] archive = null;
            BundleFiles b;
            if (Directory.Exists(path)) b = BundleFiles.Read(path, lim);
            else
            {
                try
                {
                    var fi = new FileInfo(path);
                    if (!fi.Exists) throw new BundleException(Outcome.Error, null, "cannot read bundle " + path + ": no such file or directory");
                    if (fi.Length > lim.MaxArchiveSize) throw new BundleException(Outcome.TooLarge, null, "archive exceeds size limits");
                    archive = File.ReadAllBytes(path);
                }
                catch (BundleException) { throw; }
                catch (Exception e) { throw new BundleException(Outcome.Error, null, "cannot read bundle " + path + ": " + e.GetType().Name); }
                b = BundleFiles.Decode(archive, lim);
            }
            var sb = Load(b, o);
            sb.BundlePath = path;
            sb.ArchiveBytes = archive;
            return sb;
        }

        static BundleException Invalid(Outcome o, string p, string why) { return new BundleException(o, p, "invalid bundle: " + why); }

        internal static ScbBundle Load(BundleFiles b, LoadOptions o)
        {
            // 1. Completeness and digests.
            var missing = new List<string>();
            foreach (var p in new[] { BundleFiles.Metadata, BundleFiles.Manifest, BundleFiles.CaCert, BundleFiles.ClientCert, BundleFiles.ClientKey, BundleFiles.ClientYaml })
            {
                var d = b.Get(p);
                if (d == null || d.Length == 0) missing.Add(p + (d == null ? ": required file missing" : ": required file is empty"));
            }
            if (missing.Count > 0) throw new BundleException(Outcome.Incomplete, null, string.Join("; ", missing.ToArray()));
            var mism = Manifest.Parse(b.Get(BundleFiles.Manifest)).Check(b);
            if (mism.Count > 0) throw new BundleException(Outcome.DigestMismatch, null, string.Join("; ", mism.ToArray()));
            // 2. Signature and the other checks, when trusted keys are given.
            if (o.TrustedKeys != null)
            {
                var vo = o.VerifyOptions ?? new VerifyOptions();
                if (vo.Now == null && o.Now != null) vo = new VerifyOptions { Now = o.Now, Threshold = vo.Threshold, ExpiryWarning = vo.ExpiryWarning, KeyPassphrase = o.KeyPassphrase };
                Verifier.Verify(b, o.TrustedKeys, vo).ThrowIfInvalid();
            }
            // 3. Metadata and configuration.
            var meta = BundleMetadata.Parse(b.Get(BundleFiles.Metadata));
            var cfg = ClientConfig.Parse(b.Get(BundleFiles.ClientYaml));
            if (cfg.MinTls != "" && cfg.MinTls != "1.2" && cfg.MinTls != "1.3") throw Invalid(Outcome.Inconsistent, BundleFiles.ClientYaml, "tls: unsupported minimum TLS version (valid: 1.2, 1.3)");
            var eps = new List<Endpoint>();
            foreach (var cp in cfg.ContactPoints) eps.Add(Endpoint.Parse(cp));
            foreach (var c in meta.Clusters)
                foreach (var ep in c.Endpoints) { var why = Endpoint.Problem(ep); if (why != null) throw Invalid(Outcome.Inconsistent, BundleFiles.Metadata, why); }
            ClientConfig.Cloud cloud = b.Has(BundleFiles.CloudConfig) ? ClientConfig.ParseCloud(b.Get(BundleFiles.CloudConfig)) : null;
            // 4. Certificates and key; the trust anchors are certificates/ca-cert.pem only.
            List<Cert> roots, chain;
            try { roots = Pem.Certificates(b.Get(BundleFiles.CaCert)); } catch (Cert.CertException e) { throw Invalid(Outcome.Inconsistent, BundleFiles.CaCert, e.Message); }
            try { chain = Pem.Certificates(b.Get(BundleFiles.ClientCert)); } catch (Cert.CertException e) { throw Invalid(Outcome.Inconsistent, BundleFiles.ClientCert, e.Message); }
            var leaf = chain[0];
            var keyPem = b.Get(BundleFiles.ClientKey);
            if (!Pem.IsEncryptedKey(keyPem) || (o.KeyPassphrase != null && o.KeyPassphrase.Length > 0))
            {
                PublicKeyInfo pub;
                try { pub = Keys.PublicOfPem(keyPem, o.KeyPassphrase); }
                catch (KeyException e) { throw new BundleException(e.Passphrase ? Outcome.Error : Outcome.Inconsistent, BundleFiles.ClientKey, e.Message); }
                if (!pub.SameKey(leaf.Key)) throw Invalid(Outcome.Inconsistent, BundleFiles.ClientKey, "private key does not match the client certificate");
            }
            // 5. Validity, then the chain at a time the leaf is valid.
            var t = o.Now.HasValue ? o.Now.Value.ToUniversalTime() : DateTime.UtcNow;
            if (!o.InsecureAllowExpired)
            {
                if (t < leaf.NotBefore) throw new BundleException(Outcome.NotYetValid, BundleFiles.ClientCert, "certificate is not yet valid");
                if (t > leaf.NotAfter) throw new BundleException(Outcome.Expired, BundleFiles.ClientCert, "certificate has expired");
            }
            var at = t < leaf.NotBefore ? leaf.NotBefore : t > leaf.NotAfter ? leaf.NotAfter : t;
            try { PathValidator.Build(leaf, chain.GetRange(1, chain.Count - 1), roots, at, PathValidator.ClientAuth); }
            catch (Cert.CertException e) { throw Invalid(Outcome.ChainInvalid, BundleFiles.ClientCert, "client certificate does not chain to " + BundleFiles.CaCert + ": " + e.Message); }
            if (roots[0].Fingerprint() != meta.CaFingerprint) throw Invalid(Outcome.Inconsistent, BundleFiles.Metadata, "CA fingerprint does not match " + BundleFiles.CaCert);
            if (leaf.NotAfter != meta.ExpiresAt) throw Invalid(Outcome.Inconsistent, BundleFiles.Metadata, "expires_at differs from the client certificate's NotAfter");
            // 6. Credentials and the result.
            string user = o.Username, pass = o.Password;
            if (user == null && cloud != null && cloud.Username.Length > 0) { user = cloud.Username; pass = cloud.Password; }
            if (user == null && o.Environment != null)
            {
                string v;
                if (o.Environment.TryGetValue(EnvUsername, out v)) user = v;
                if (o.Environment.TryGetValue(EnvPassword, out v)) pass = v;
            }
            var sb = new ScbBundle(b, roots, cloud == null ? null : cloud.PfxCertPassword)
            {
                Metadata = meta,
                ContactPoints = eps.AsReadOnly(),
                LocalDatacenter = cfg.LocalDatacenter.Length == 0 && cloud != null ? cloud.LocalDC : cfg.LocalDatacenter,
                HostnameVerification = cfg.HostnameVerification,
                ServerName = cfg.ServerName.Length == 0 ? null : cfg.ServerName,
                Username = user,
                Password = pass,
                CaCertificates = new X509Certificate2Collection(),
                ClientCertificateWithoutKey = new X509Certificate2(leaf.Raw),
            };
            foreach (var r in roots) sb.CaCertificates.Add(new X509Certificate2(r.Raw));
            return sb;
        }

        /// <summary>
        /// The client certificate with its private key, from cert.pfx and the pfxCertPassword of
        /// config.json (the practical way to get a key into an X509Certificate2 on
        /// netstandard2.0). Loaded on first use.
        /// </summary>
        /// <exception cref="BundleException">
        /// The bundle has no cert.pfx, or this runtime cannot read it. Mono cannot read the
        /// AES-256 PKCS#12 scbkit writes by default: generate the bundle with
        /// <c>scb generate --pkcs12-cipher legacy-3des</c> for Mono and .NET Framework, or use
        /// .NET Core 3.0+ / .NET 5+.
        /// </exception>
        public X509Certificate2 ClientCertificate
        {
            get
            {
                if (clientCertificate != null) return clientCertificate;
                var pfx = files.Get(BundleFiles.CloudPfx);
                if (pfx == null || pfxPassword == null)
                    throw new BundleException(Outcome.Error, BundleFiles.CloudPfx, "the bundle has no cert.pfx (generate it with the pkcs12 component)");
                try { clientCertificate = new X509Certificate2(pfx, pfxPassword, X509KeyStorageFlags.Exportable); }
                catch (CryptographicException)
                {
                    throw new BundleException(Outcome.Error, BundleFiles.CloudPfx,
                        "this runtime cannot read cert.pfx (Mono and older .NET Framework cannot read AES-256 PKCS#12): generate the bundle with 'scb generate --pkcs12-cipher legacy-3des', or use .NET Core 3.0+ / .NET 5+");
                }
                if (!PathValidator.Bytes(clientCertificate.RawData, ClientCertificateWithoutKey.RawData) || !clientCertificate.HasPrivateKey)
                    throw new BundleException(Outcome.Inconsistent, BundleFiles.CloudPfx, "invalid bundle: cert.pfx does not hold the client certificate and its key");
                return clientCertificate;
            }
        }

        /// <summary>
        /// A server-certificate validation callback pinned to the bundle CA: the server's chain
        /// (its certificate, the intermediates it sent, nothing from the system store) must lead to
        /// a certificate of certificates/ca-cert.pem, with the serverAuth usage allowed, valid now.
        /// The host name is checked against <paramref name="expectedHost"/> when given (a DNS name
        /// or IP literal), else against the platform's verdict (RemoteCertificateNameMismatch),
        /// unless the bundle was generated without host-name verification.
        /// </summary>
        public RemoteCertificateValidationCallback CreateServerCertificateValidator(string expectedHost = null)
        {
            var anchors = roots;
            bool checkHost = HostnameVerification;
            string host = expectedHost ?? ServerName;
            return (sender, certificate, chain, errors) =>
            {
                if (certificate == null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
                try
                {
                    var leaf = Cert.Parse(certificate.GetRawCertData());
                    var inter = new List<Cert>();
                    if (chain != null)
                    {
                        foreach (var el in chain.ChainElements) inter.Add(Cert.Parse(el.Certificate.RawData));
                        foreach (var x in chain.ChainPolicy.ExtraStore) inter.Add(Cert.Parse(x.RawData));
                    }
                    var path = PathValidator.Build(leaf, inter, anchors, DateTime.UtcNow, PathValidator.ServerAuth);
                    var top = path[path.Count - 1];
                    bool pinned = false;
                    foreach (var a in anchors) pinned |= Cert.Same(a, top);
                    if (!pinned) return false;
                    if (!checkHost) return true;
                    if (host != null) return leaf.MatchesHost(host);
                    return (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
                }
                catch (Exception) { return false; }
            };
        }

        /// <summary>
        /// A client-certificate selection callback that always presents the bundle's client
        /// certificate (<see cref="ClientCertificate"/>). Pass it to SslStream: Mono's SslStream
        /// (6.8, btls) sends no client certificate without one, and the cluster then refuses the
        /// handshake (PEER_DID_NOT_RETURN_A_CERTIFICATE).
        /// </summary>
        public LocalCertificateSelectionCallback CreateClientCertificateSelector()
        {
            var c = ClientCertificate;
            return (sender, targetHost, localCertificates, remoteCertificate, acceptableIssuers) => c;
        }

        /// <summary>The contact points as IPEndPoints (IP literals only; DNS names are resolved now).</summary>
        public IList<IPEndPoint> ResolveContactPoints()
        {
            var o = new List<IPEndPoint>();
            foreach (var e in ContactPoints)
            {
                IPAddress ip;
                if (IPAddress.TryParse(e.Host, out ip)) o.Add(new IPEndPoint(ip, e.Port));
                else foreach (var a in Dns.GetHostAddresses(e.Host)) o.Add(new IPEndPoint(a, e.Port));
            }
            return o;
        }

        /// <summary>
        /// Verifies this bundle against trusted keys from outside it (manifest, DSSE signature,
        /// chain, expiry, consistency). Returns the report when every check passed.
        /// </summary>
        /// <exception cref="BundleException">With the first failure's outcome.</exception>
        public VerificationReport Verify(TrustedKeys trustedKeys, VerifyOptions options = null)
        {
            var r = Verifier.Verify(files, trustedKeys, options ?? new VerifyOptions());
            r.ThrowIfInvalid();
            return r;
        }

        /// <summary>
        /// Verifies a bundle file or directory without loading it, with an optional detached
        /// signature file (checked before the archive is opened). Never throws for bad input: the
        /// report says what failed.
        /// </summary>
        public static VerificationReport VerifyFile(string path, string detachedSignature, TrustedKeys trustedKeys, VerifyOptions options = null)
        {
            var o = options ?? new VerifyOptions();
            byte[] sig = null;
            if (detachedSignature != null)
            {
                try
                {
                    if (new FileInfo(detachedSignature).Length > Dsse.MaxEnvelopeSize) throw new IOException("detached signature too large");
                    sig = File.ReadAllBytes(detachedSignature);
                }
                catch (Exception e)
                {
                    var r = new VerificationReport(o.ResolvedNow());
                    r.Add(Check.DetachedSignature, CheckStatus.Fail, Outcome.Error, "cannot read the detached signature: " + e.GetType().Name, null);
                    return r;
                }
            }
            return Verifier.VerifyPath(path, sig, trustedKeys, o);
        }

        /// <summary>Never prints the password or key material.</summary>
        public override string ToString()
        {
            return "ScbBundle{path=" + BundlePath + ", cluster=" + Metadata.ClusterName + ", client=" + Metadata.ClientId + ", localDatacenter=" + LocalDatacenter
                + ", contactPoints=[" + string.Join(", ", new List<Endpoint>(ContactPoints).ConvertAll(e => e.ToString()).ToArray()) + "], username=" + Username
                + ", password=" + (Password == null ? "<none>" : "<redacted>") + ", key=<redacted>}";
        }
    }
}
