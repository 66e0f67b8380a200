// The driver-independent half of the example: reads the bundle's
// config/driver-configs/dotnet/appsettings.json, loads the CA and client
// certificates, and validates server certificates against the bundle's CA
// only. It needs nothing but the base class library, so it builds with
// .NET 6+ and with Mono (mcs -r:System.Runtime.Serialization.dll).
using System;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ScbExample
{
    [DataContract] public sealed class SslSettings
    {
        [DataMember] public string CaCertificate;
        [DataMember] public string ClientCertificatePfx;
        [DataMember] public string PfxPasswordFrom;
        [DataMember] public string ClientCertificatePem;
        [DataMember] public string ClientKeyPem;
        [DataMember] public string EnabledProtocols;
        [DataMember] public bool CheckCertificateRevocation;
        [DataMember] public bool HostnameVerification;
        [DataMember] public string ServerName;
    }

    [DataContract] public sealed class CassandraSettings
    {
        [DataMember] public string[] ContactPoints;
        [DataMember] public int Port;
        [DataMember] public string LocalDatacenter;
        [DataMember] public int ConnectTimeoutMillis;
        [DataMember] public int ReadTimeoutMillis;
        [DataMember] public string ConsistencyLevel;
        [DataMember] public int CoreConnectionsPerHost;
        [DataMember] public string LoadBalancingPolicy;
        [DataMember] public string RetryPolicy;
        [DataMember] public string Compression;
        [DataMember] public string Username;
        [DataMember] public SslSettings Ssl;
    }

    [DataContract] sealed class AppSettings { [DataMember] public CassandraSettings Cassandra; }

    [DataContract] sealed class CloudConfig { [DataMember(Name = "pfxCertPassword")] public string PfxCertPassword; }

    public sealed class ScbBundle
    {
        public const string Conf = "config/driver-configs/dotnet/appsettings.json";
        public string Root { get; private set; }
        public CassandraSettings Settings { get; private set; }
        public X509Certificate2 Ca { get; private set; }
        public X509Certificate2 ClientCertificate { get; private set; }

        /// <summary>Loads settings and certificates from an extracted bundle directory.</summary>
        public static ScbBundle Load(string root)
        {
            var b = new ScbBundle { Root = Path.GetFullPath(root) };
            b.Settings = ReadJson<AppSettings>(b.PathOf(Conf)).Cassandra;
            if (b.Settings == null || b.Settings.Ssl == null) throw new InvalidDataException(Conf + " has no Cassandra:Ssl section");
            b.Ca = new X509Certificate2(PemToDer(File.ReadAllText(b.PathOf(b.Settings.Ssl.CaCertificate)), "CERTIFICATE"));
            // cert.pfx holds the client key and chain; its password is in config.json.
            var pfxPassword = ReadJson<CloudConfig>(b.PathOf("config.json")).PfxCertPassword;
            try
            {
                b.ClientCertificate = new X509Certificate2(File.ReadAllBytes(b.PathOf(b.Settings.Ssl.ClientCertificatePfx)), pfxPassword);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new InvalidDataException("cannot read cert.pfx (" + e.Message + "): AES-256 PKCS#12 needs .NET Core 3.0+ " +
                    "or .NET 5+; for .NET Framework or Mono generate the bundle with --pkcs12-cipher legacy-3des");
            }
            if (!b.ClientCertificate.HasPrivateKey) throw new InvalidDataException("cert.pfx has no private key");
            return b;
        }

        /// <summary>Paths in the settings are relative to the bundle root.</summary>
        public string PathOf(string rel) { return Path.Combine(Root, rel); }

        public SslProtocols Protocols
        {
            get { return (SslProtocols)Enum.Parse(typeof(SslProtocols), Settings.Ssl.EnabledProtocols); }
        }

        /// <summary>
        /// Accepts a server certificate only if it chains to the bundle's CA and, unless the
        /// bundle says otherwise (tests only), names the host that was connected to.
        /// </summary>
        public bool ValidateServerCertificate(object sender, X509Certificate cert, X509Chain presented, SslPolicyErrors errors)
        {
            if (cert == null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
            if (Settings.Ssl.HostnameVerification && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using (var chain = new X509Chain())
            {
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                chain.ChainPolicy.ExtraStore.Add(Ca);
                if (presented != null)
                    foreach (var e in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(e.Certificate);
                var leaf = new X509Certificate2(cert);
                chain.Build(leaf);
                // Only "root not in the system store" may fail; the root must be our CA.
                if (chain.ChainStatus.Any(s => s.Status != X509ChainStatusFlags.NoError && s.Status != X509ChainStatusFlags.UntrustedRoot))
                    return false;
                var root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
                return root.RawData.SequenceEqual(Ca.RawData);
            }
        }

        static T ReadJson<T>(string path)
        {
            using (var s = File.OpenRead(path)) return (T)new DataContractJsonSerializer(typeof(T)).ReadObject(s);
        }

        static byte[] PemToDer(string pem, string label)
        {
            string begin = "-----BEGIN " + label + "-----", end = "-----END " + label + "-----";
            int i = pem.IndexOf(begin, StringComparison.Ordinal), j = pem.IndexOf(end, StringComparison.Ordinal);
            if (i < 0 || j < i) throw new InvalidDataException("no " + label + " PEM block");
            var body = new StringBuilder(pem.Substring(i + begin.Length, j - i - begin.Length));
            return Convert.FromBase64String(body.Replace("\r", "").Replace("\n", "").ToString());
        }
    }
}
