// BundleCheck opens secure connection bundles the way the DataStax Java
// driver 4.x does (CloudConfigFactory): it streams the zip with
// java.util.zip.ZipInputStream, reads config.json, loads identity.jks and
// trustStore.jks with KeyStore.getInstance("JKS") and the passwords from
// config.json, and builds the KeyManagerFactory, TrustManagerFactory and
// SSLContext("SSL") from them. It then checks that the client chain is
// trusted as a TLS client certificate, that the private key signs for the
// certificate, and that cert.pfx opens as PKCS12 with pfxCertPassword.
//
// Run with JDK 17 or later in source-file mode:
//
//	java BundleCheck.java bundle1.zip [bundle2.zip ...]
//
// It prints "OK <path>" or "FAIL <path>: <reason>" per bundle and exits 1
// if any failed. It is a test fixture of package scb; see interop_test.go.
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

public class BundleCheck {
    public static void main(String[] args) throws Exception {
        int failures = 0;
        for (String path : args) {
            try {
                check(path);
                System.out.println("OK " + path);
            } catch (Exception e) {
                failures++;
                System.out.println("FAIL " + path + ": " + e);
            }
        }
        System.exit(failures == 0 && args.length > 0 ? 0 : 1);
    }

    static void check(String path) throws Exception {
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream zin = new ZipInputStream(new FileInputStream(path))) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                if (e.getMethod() != ZipEntry.DEFLATED) {
                    throw new IllegalStateException(e.getName() + " is not DEFLATED");
                }
                entries.put(e.getName(), zin.readAllBytes());
            }
        }
        String config = new String(need(entries, "config.json"), StandardCharsets.UTF_8);
        char[] keyStorePassword = field(config, "keyStorePassword").toCharArray();
        char[] trustStorePassword = field(config, "trustStorePassword").toCharArray();
        char[] pfxPassword = field(config, "pfxCertPassword").toCharArray();

        // identity.jks, as CloudConfigFactory.createKeyManagerFactory does.
        KeyStore ks = KeyStore.getInstance("JKS");
        ks.load(new ByteArrayInputStream(need(entries, "identity.jks")), keyStorePassword);
        if (ks.size() != 1 || !ks.isKeyEntry("client")) {
            throw new IllegalStateException("identity.jks: want one PrivateKeyEntry \"client\", have " + aliases(ks));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, keyStorePassword);
        X509KeyManager km = (X509KeyManager) kmf.getKeyManagers()[0];
        PrivateKey key = km.getPrivateKey("client");
        X509Certificate[] chain = km.getCertificateChain("client");
        if (key == null || chain == null || chain.length < 2) {
            throw new IllegalStateException("identity.jks: key manager has no key or chain for \"client\"");
        }

        // trustStore.jks, as createTrustManagerFactory does.
        KeyStore ts = KeyStore.getInstance("JKS");
        ts.load(new ByteArrayInputStream(need(entries, "trustStore.jks")), trustStorePassword);
        if (ts.size() != 1 || !ts.isCertificateEntry("ca")) {
            throw new IllegalStateException("trustStore.jks: want one trustedCertEntry \"ca\", have " + aliases(ts));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
        if (tm.getAcceptedIssuers().length != 1) {
            throw new IllegalStateException("trustStore.jks: want 1 trust anchor, have " + tm.getAcceptedIssuers().length);
        }
        // The client chain must pass PKIX validation with the TLS-client
        // variant (extended key usage clientAuth) against the trust store.
        tm.checkClientTrusted(chain, key.getAlgorithm());

        SSLContext ctx = SSLContext.getInstance("SSL");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        SSLEngine engine = ctx.createSSLEngine("localhost", 9042);
        engine.setUseClientMode(true);

        // The key signs for the certificate.
        String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        byte[] msg = "scbkit interop".getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(msg);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(chain[0].getPublicKey());
        v.update(msg);
        if (!v.verify(sig)) {
            throw new IllegalStateException("identity.jks: key does not match certificate");
        }

        // cert.pfx, as the C# driver reads it; Java reads the same PKCS#12.
        KeyStore pfx = KeyStore.getInstance("PKCS12");
        pfx.load(new ByteArrayInputStream(need(entries, "cert.pfx")), pfxPassword);
        boolean pfxKey = false;
        for (Enumeration<String> e = pfx.aliases(); e.hasMoreElements();) {
            String a = e.nextElement();
            if (pfx.isKeyEntry(a)) {
                pfxKey = pfx.getKey(a, pfxPassword) != null
                        && ((X509Certificate) pfx.getCertificate(a)).equals(chain[0]);
            }
        }
        if (!pfxKey) {
            throw new IllegalStateException("cert.pfx: no key entry for the client certificate, have " + aliases(pfx));
        }
    }

    static byte[] need(Map<String, byte[]> entries, String name) {
        byte[] b = entries.get(name);
        if (b == null) {
            throw new IllegalStateException("Invalid bundle: missing file " + name);
        }
        return b;
    }

    // field reads a string value from config.json; the generated passwords
    // are base64url, so a regular expression is enough here.
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"\\\\]*)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("Invalid config.json: missing field " + name);
        }
        return m.group(1);
    }

    static String aliases(KeyStore ks) throws Exception {
        StringBuilder sb = new StringBuilder("[");
        for (Enumeration<String> e = ks.aliases(); e.hasMoreElements();) {
            String a = e.nextElement();
            sb.append(a).append(ks.isKeyEntry(a) ? "(key)" : "(cert)");
            if (e.hasMoreElements()) {
                sb.append(", ");
            }
        }
        return sb.append("]").toString();
    }
}
