// Runs the driver-independent half alone: loads the bundle, prints what the
// driver would be given and, with --handshake, performs the mutual-TLS
// handshake with the first contact point through SslStream and the same
// validation callback. Build: mcs -r:System.Runtime.Serialization.dll
// -out:bundlecheck.exe ScbBundle.cs BundleCheck.cs; run: mono bundlecheck.exe DIR
using System;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace ScbExample
{
    static class BundleCheck
    {
        static int Main(string[] args)
        {
            if (args.Length < 1) { Console.Error.WriteLine("usage: bundlecheck BUNDLE_DIR [--handshake]"); return 2; }
            ScbBundle b;
            try { b = ScbBundle.Load(args[0]); }
            catch (Exception e) { Console.Error.WriteLine("bundle: " + e.Message); return 2; }
            var s = b.Settings;
            Console.WriteLine("contact_points=" + string.Join(",", s.ContactPoints));
            Console.WriteLine("port=" + s.Port);
            Console.WriteLine("local_datacenter=" + s.LocalDatacenter);
            Console.WriteLine("connect_timeout_ms=" + s.ConnectTimeoutMillis);
            Console.WriteLine("read_timeout_ms=" + s.ReadTimeoutMillis);
            Console.WriteLine("consistency=" + s.ConsistencyLevel);
            Console.WriteLine("protocols=" + b.Protocols);
            Console.WriteLine("hostname_verification=" + s.Ssl.HostnameVerification.ToString().ToLowerInvariant());
            Console.WriteLine("ca_subject=" + b.Ca.Subject);
            Console.WriteLine("client_subject=" + b.ClientCertificate.Subject);
            Console.WriteLine("client_has_key=" + b.ClientCertificate.HasPrivateKey.ToString().ToLowerInvariant());
            if (args.Length < 2 || args[1] != "--handshake") return 0;
            string host = s.ContactPoints[0];
            try
            {
                using (var tcp = new TcpClient(host, s.Port))
                using (var tls = new SslStream(tcp.GetStream(), false, b.ValidateServerCertificate))
                {
                    tls.AuthenticateAsClient(string.IsNullOrEmpty(s.Ssl.ServerName) ? host : s.Ssl.ServerName,
                        new X509CertificateCollection { b.ClientCertificate }, b.Protocols, s.Ssl.CheckCertificateRevocation);
                    Console.WriteLine("handshake=ok protocol=" + tls.SslProtocol + " server=" + new X509Certificate2(tls.RemoteCertificate).Subject);
                }
                return 0;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("TLS failed: " + e.GetBaseException().Message);
                return 4;
            }
        }
    }
}
