package io.scbkit.loader;

import io.scbkit.loader.VerificationReport.Check;
import io.scbkit.loader.VerificationReport.Status;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs the verification checks on an in-memory bundle, with the rules and in the order of the Go
 * {@code verify} package, so that every loader reports the same outcome for the same input.
 */
final class Verifier {
  static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  static final String ANY_EKU = "2.5.29.37.0";

  private final BundleFiles b;
  private final TrustedKeys keys;
  private final VerifyOptions opts;
  private final VerificationReport r;
  private final Instant now;
  private Metadata meta;
  private List<X509Certificate> path;

  private Verifier(BundleFiles b, TrustedKeys keys, VerifyOptions opts, VerificationReport r) {
    this.b = b;
    this.keys = keys;
    this.opts = opts;
    this.now = r.getTime();
    this.r = r;
  }

  /**
   * Verifies an archive file or directory, with an optional detached signature over the archive
   * bytes (null: none). The detached signature is checked before the archive is opened; reading
   * the archive is the next check.
   */
  static VerificationReport verifyPath(java.nio.file.Path p, byte[] detachedSig, TrustedKeys keys, VerifyOptions opts) {
    Instant now = opts.resolvedNow();
    if (java.nio.file.Files.isDirectory(p)) {
      VerificationReport rep = new VerificationReport(now);
      if (detachedSig != null) {
        rep.add(Check.DETACHED_SIGNATURE, Status.FAIL, Outcome.ERROR, "a directory cannot carry a detached signature", null);
        return rep;
      }
      BundleFiles b;
      try {
        b = BundleFiles.read(p, opts.limits());
      } catch (BundleException e) {
        rep.fail(Check.ARCHIVE, e);
        return rep;
      }
      rep.add(Check.ARCHIVE, Status.PASS, null, "directory with " + b.size() + " files", null);
      return new Verifier(b, keys, opts, rep).run();
    }
    byte[] archive;
    try {
      long size = java.nio.file.Files.size(p);
      if (size > opts.limits().maxArchiveSize()) {
        VerificationReport rep = new VerificationReport(now);
        rep.add(Check.ARCHIVE, Status.FAIL, Outcome.TOO_LARGE, "archive exceeds size limits: archive is " + size + " bytes, more than " + opts.limits().maxArchiveSize(), null);
        return rep;
      }
      try (java.io.InputStream in = java.nio.file.Files.newInputStream(p)) {
        archive = BundleFiles.readBounded(in, opts.limits().maxArchiveSize() + 1);
      }
    } catch (java.io.IOException e) {
      VerificationReport rep = new VerificationReport(now);
      rep.add(Check.ARCHIVE, Status.FAIL, Outcome.ERROR, "cannot read " + p + ": " + BundleFiles.safeMessage(e), null);
      return rep;
    }
    return verifyArchive(archive, detachedSig, keys, opts);
  }

  /** Verifies a zip or tar.gz bundle held in memory (see {@link #verifyPath}). */
  static VerificationReport verifyArchive(byte[] archive, byte[] detachedSig, TrustedKeys keys, VerifyOptions opts) {
    VerificationReport rep = new VerificationReport(opts.resolvedNow());
    if (archive.length > opts.limits().maxArchiveSize()) {
      rep.add(Check.ARCHIVE, Status.FAIL, Outcome.TOO_LARGE, "archive exceeds size limits: archive is " + archive.length + " bytes, more than " + opts.limits().maxArchiveSize(), null);
      return rep;
    }
    if (!detached(rep, archive, detachedSig, keys, opts)) {
      return rep;
    }
    BundleFiles b;
    try {
      b = BundleFiles.decode(archive, opts.limits());
    } catch (BundleException e) {
      rep.fail(Check.ARCHIVE, e);
      return rep;
    }
    rep.add(Check.ARCHIVE, Status.PASS, null, archive.length + " bytes, " + b.size() + " files, every path safe", null);
    return new Verifier(b, keys, opts, rep).run();
  }

  /** Adds the detached-signature result; reports whether the archive may be opened. */
  private static boolean detached(VerificationReport rep, byte[] archive, byte[] sig, TrustedKeys keys, VerifyOptions opts) {
    if (sig == null) {
      rep.add(Check.DETACHED_SIGNATURE, Status.SKIP, null, "no detached signature", null);
      return true;
    }
    if (keys == null || keys.size() == 0) {
      if (opts.requireSignature()) {
        rep.add(Check.DETACHED_SIGNATURE, Status.FAIL, Outcome.ERROR, "a signature is required but no trusted keys were given", null);
        return false;
      }
      rep.add(Check.DETACHED_SIGNATURE, Status.WARN, null, "detached signature present, but no trusted keys were given: it was not checked", null);
      return true;
    }
    try {
      Dsse env = Dsse.parse(sig, null);
      if (!env.payloadType.equals(Dsse.PAYLOAD_TYPE_ARCHIVE)) {
        throw new BundleException(Outcome.BAD_SIGNATURE, null, "signature does not verify: payloadType is "
            + Json.quote(env.payloadType) + ", want \"" + Dsse.PAYLOAD_TYPE_ARCHIVE + "\"");
      }
      Dsse.Statement st = Dsse.parseStatement(env.payload);
      if (st.size != archive.length || !st.sha256.equals(Manifest.sha256Hex(archive))) {
        throw new BundleException(Outcome.DIGEST_MISMATCH, null, "archive does not match its detached signature: signed for "
            + st.size + " bytes with SHA-256 " + st.sha256);
      }
      Dsse.Verified ok = env.verify(keys, rep.getTime(), opts.threshold());
      rep.add(Check.DETACHED_SIGNATURE, Status.PASS, null, "archive " + Json.quote(st.name) + " (" + st.size + " bytes) signed by "
          + ok.keyIds.size() + " trusted key(s): " + String.join(", ", ok.keyIds), null);
      return true;
    } catch (BundleException e) {
      rep.fail(Check.DETACHED_SIGNATURE, e);
      return false;
    }
  }

  /** Verifies an in-memory bundle (every check from completeness on). */
  static VerificationReport verify(BundleFiles b, TrustedKeys keys, VerifyOptions opts) {
    return new Verifier(b, keys, opts, new VerificationReport(opts.resolvedNow())).run();
  }

  private VerificationReport run() {
    completeness();
    signature();
    manifest();
    chain();
    validity();
    consistency();
    return r;
  }

  private static String stamp(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  // ---- completeness ------------------------------------------------------------------------

  private void completeness() {
    List<String> problems = new ArrayList<>();
    String firstPath = null;
    List<String> need = new ArrayList<>(BundleFiles.REQUIRED);
    if (b.has(BundleFiles.METADATA)) {
      try {
        meta = Metadata.parse(b.get(BundleFiles.METADATA));
      } catch (BundleException e) {
        r.fail(Check.COMPLETENESS, e);
        return;
      }
      need.add(BundleFiles.connectionProfilePath(meta.getEnvironment()));
    }
    int stock = 0;
    for (String p : BundleFiles.STOCK) {
      if (b.has(p)) {
        stock++;
      }
    }
    if (stock > 0) {
      need.addAll(BundleFiles.STOCK);
    }
    for (String p : need) {
      byte[] d = b.get(p);
      if (d == null) {
        problems.add(p + ": required file missing");
      } else if (d.length == 0) {
        problems.add(p + ": required file is empty");
      } else {
        continue;
      }
      if (firstPath == null) {
        firstPath = p;
      }
    }
    if (!problems.isEmpty()) {
      r.add(Check.COMPLETENESS, Status.FAIL, Outcome.INCOMPLETE, summary(problems), firstPath);
      return;
    }
    r.add(Check.COMPLETENESS, Status.PASS, null, b.size() + " files, every required file present"
        + (stock > 0 ? ", with the stock-driver files" : ""), null);
  }

  private static String summary(List<String> problems) {
    if (problems.size() == 1) {
      return problems.get(0);
    }
    String s = problems.size() + " problems: " + String.join("; ", problems.subList(0, Math.min(3, problems.size())));
    return problems.size() > 3 ? s + "; …" : s;
  }

  // ---- signature ---------------------------------------------------------------------------

  private void signature() {
    boolean signed = b.has(BundleFiles.SIGNATURE);
    if (keys == null || keys.size() == 0) {
      if (opts.requireSignature()) {
        r.add(Check.SIGNATURE, Status.FAIL, Outcome.ERROR, "a signature is required but no trusted keys were given", null);
      } else if (signed) {
        r.add(Check.SIGNATURE, Status.WARN, null, "signed, but no trusted keys were given: the signature was not checked", BundleFiles.SIGNATURE);
      } else {
        r.add(Check.SIGNATURE, Status.SKIP, null, "not signed, and no trusted keys were given", null);
      }
      return;
    }
    if (!b.has(BundleFiles.MANIFEST)) {
      r.add(Check.SIGNATURE, Status.SKIP, null, "no manifest.json to verify", null);
      return;
    }
    if (!signed) {
      r.add(Check.SIGNATURE, Status.FAIL, Outcome.UNSIGNED, "the bundle is not signed, and trusted keys were given", BundleFiles.SIGNATURE);
      return;
    }
    try {
      Dsse env = Dsse.parse(b.get(BundleFiles.SIGNATURE), BundleFiles.SIGNATURE);
      if (!env.payloadType.equals(Dsse.PAYLOAD_TYPE_MANIFEST)) {
        throw new BundleException(Outcome.BAD_SIGNATURE, BundleFiles.SIGNATURE, "signature does not verify: payloadType is "
            + Json.quote(env.payloadType) + ", want \"" + Dsse.PAYLOAD_TYPE_MANIFEST + "\"");
      }
      if (!Arrays.equals(env.payload, b.get(BundleFiles.MANIFEST))) {
        throw new BundleException(Outcome.BAD_SIGNATURE, BundleFiles.SIGNATURE, "signature does not verify: the signed payload is not this bundle's manifest.json");
      }
      Dsse.Verified ok = env.verify(keys, now, opts.threshold());
      r.setSignedBy(ok.keyIds);
      String msg = "signed by " + ok.keyIds.size() + " trusted key(s): " + String.join(", ", ok.keyIds);
      if (!ok.expired.isEmpty()) {
        msg += "; " + ok.expired.size() + " more outside their validity window";
      }
      if (!ok.unknown.isEmpty()) {
        msg += "; " + ok.unknown.size() + " by unknown keys (ignored)";
      }
      r.add(Check.SIGNATURE, Status.PASS, null, msg, BundleFiles.SIGNATURE);
    } catch (BundleException e) {
      r.fail(Check.SIGNATURE, e);
    }
  }

  // ---- manifest ----------------------------------------------------------------------------

  private void manifest() {
    byte[] data = b.get(BundleFiles.MANIFEST);
    if (data == null) {
      r.add(Check.MANIFEST, Status.SKIP, null, "no manifest.json", null);
      return;
    }
    Manifest m;
    try {
      m = Manifest.parse(data);
    } catch (BundleException e) {
      r.fail(Check.MANIFEST, e);
      return;
    }
    List<String> problems = new ArrayList<>(Manifest.check(b, m));
    for (String p : b.paths()) {
      if (!Manifest.covers(p) && !p.equals(BundleFiles.MANIFEST) && !p.equals(BundleFiles.SIGNATURE)) {
        problems.add(p + ": file does not match manifest: file not covered by the manifest");
      }
    }
    if (!problems.isEmpty()) {
      String first = problems.get(0);
      r.add(Check.MANIFEST, Status.FAIL, Outcome.DIGEST_MISMATCH, summary(problems), first.substring(0, first.indexOf(": ")));
      return;
    }
    r.add(Check.MANIFEST, Status.PASS, null, m.files.size() + " files match manifest.json", null);
  }

  // ---- chain -------------------------------------------------------------------------------

  private void chain() {
    byte[] rootsPem = b.get(BundleFiles.CA_CERT);
    byte[] chainPem = b.get(BundleFiles.CLIENT_CERT);
    if (rootsPem == null || chainPem == null || rootsPem.length == 0 || chainPem.length == 0) {
      r.add(Check.CHAIN, Status.SKIP, null, "certificate files missing", null);
      return;
    }
    List<X509Certificate> roots;
    List<X509Certificate> chain;
    try {
      roots = Pem.certificates(rootsPem);
    } catch (CertificateException e) {
      r.add(Check.CHAIN, Status.FAIL, Outcome.CHAIN_INVALID, BundleFiles.CA_CERT + ": certificate chain does not verify: " + e.getMessage(), BundleFiles.CA_CERT);
      return;
    }
    try {
      chain = Pem.certificates(chainPem);
    } catch (CertificateException e) {
      r.add(Check.CHAIN, Status.FAIL, Outcome.CHAIN_INVALID, BundleFiles.CLIENT_CERT + ": certificate chain does not verify: " + e.getMessage(), BundleFiles.CLIENT_CERT);
      return;
    }
    X509Certificate leaf = chain.get(0);
    Instant at = clamp(now, leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
    try {
      path = buildPath(leaf, chain.subList(1, chain.size()), roots, at);
    } catch (GeneralSecurityException e) {
      r.add(Check.CHAIN, Status.FAIL, Outcome.CHAIN_INVALID, BundleFiles.CLIENT_CERT + ": certificate chain does not verify: not issued by "
          + BundleFiles.CA_CERT + " for client authentication: " + BundleFiles.safeMessage(e), BundleFiles.CLIENT_CERT);
      return;
    }
    if (meta != null && !meta.getCaFingerprint().equals(fingerprint(roots.get(0)))) {
      path = null;
      r.add(Check.CHAIN, Status.FAIL, Outcome.CHAIN_INVALID, BundleFiles.METADATA + ": certificate chain does not verify: ca.fingerprint_sha256 is not the fingerprint of the first certificate in "
          + BundleFiles.CA_CERT, BundleFiles.METADATA);
      return;
    }
    r.add(Check.CHAIN, Status.PASS, null, "client certificate chains to " + path.get(path.size() - 1).getSubjectX500Principal().getName()
        + " for client authentication", BundleFiles.CLIENT_CERT);
  }

  static Instant clamp(Instant t, Instant lo, Instant hi) {
    if (t.isBefore(lo)) {
      return lo;
    }
    if (t.isAfter(hi)) {
      return hi;
    }
    return t;
  }

  static String fingerprint(X509Certificate c) {
    try {
      return Manifest.sha256Hex(c.getEncoded());
    } catch (CertificateException e) {
      return "";
    }
  }

  /**
   * Builds and validates the path from leaf to one of roots at time at, with intermediates, for
   * client authentication (every certificate's extended key usage, when present, must allow it).
   * Returns the path leaf first, the root last.
   */
  static List<X509Certificate> buildPath(X509Certificate leaf, List<X509Certificate> intermediates,
      List<X509Certificate> roots, Instant at) throws GeneralSecurityException {
    List<X509Certificate> out = new ArrayList<>();
    for (X509Certificate root : roots) {
      if (Arrays.equals(root.getEncoded(), leaf.getEncoded())) {
        out.add(leaf);
        checkEku(out);
        return out;
      }
    }
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate root : roots) {
      anchors.add(new TrustAnchor(root, null));
    }
    X509CertSelector sel = new X509CertSelector();
    sel.setCertificate(leaf);
    PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, sel);
    params.setRevocationEnabled(false);
    params.setDate(Date.from(at));
    List<Certificate> store = new ArrayList<>(intermediates);
    store.add(leaf);
    params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(store)));
    PKIXCertPathBuilderResult res = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(params);
    for (Certificate c : res.getCertPath().getCertificates()) {
      out.add((X509Certificate) c);
    }
    out.add(res.getTrustAnchor().getTrustedCert());
    checkEku(out);
    return out;
  }

  private static void checkEku(List<X509Certificate> path) throws GeneralSecurityException {
    for (X509Certificate c : path) {
      List<String> eku = c.getExtendedKeyUsage();
      if (eku != null && !eku.contains(CLIENT_AUTH) && !eku.contains(ANY_EKU)) {
        throw new GeneralSecurityException("certificate specifies an incompatible key usage");
      }
    }
  }

  // ---- validity ----------------------------------------------------------------------------

  private void validity() {
    List<X509Certificate> certs = path;
    if (certs == null) {
      try {
        certs = Collections.singletonList(Pem.certificates(b.get(BundleFiles.CLIENT_CERT) == null ? new byte[0] : b.get(BundleFiles.CLIENT_CERT)).get(0));
      } catch (CertificateException e) {
        r.add(Check.VALIDITY, Status.SKIP, null, "no readable client certificate", null);
        return;
      }
    }
    for (int i = 0; i < certs.size(); i++) {
      X509Certificate c = certs.get(i);
      String name = name(i, certs.size());
      String p = pathOf(i, certs.size());
      Instant nb = c.getNotBefore().toInstant();
      Instant na = c.getNotAfter().toInstant();
      if (now.isBefore(nb)) {
        r.add(Check.VALIDITY, Status.FAIL, Outcome.NOT_YET_VALID, p + ": certificate is not valid yet: " + name + " valid from " + stamp(nb), p);
        return;
      }
      if (now.isAfter(na)) {
        r.add(Check.VALIDITY, Status.FAIL, Outcome.EXPIRED, p + ": certificate has expired: " + name + " expired at " + stamp(na), p);
        return;
      }
    }
    int first = 0;
    for (int i = 0; i < certs.size(); i++) {
      if (certs.get(i).getNotAfter().before(certs.get(first).getNotAfter())) {
        first = i;
      }
    }
    Instant na = certs.get(first).getNotAfter().toInstant();
    Duration left = Duration.between(now, na);
    String msg = name(first, certs.size()) + " expires at " + stamp(na) + ", in " + left.toDays() + " days";
    Duration warn = opts.expiryWarning();
    if (warn != null && !warn.isNegative() && !warn.isZero() && left.compareTo(warn) < 0) {
      r.add(Check.VALIDITY, Status.WARN, null, msg, pathOf(first, certs.size()));
      return;
    }
    r.add(Check.VALIDITY, Status.PASS, null, msg, pathOf(first, certs.size()));
  }

  private String name(int i, int n) {
    if (i == 0) {
      return "client certificate";
    }
    if (i == n - 1 && path != null) {
      return "CA certificate";
    }
    return "intermediate certificate";
  }

  private String pathOf(int i, int n) {
    return (i == n - 1 && path != null && i > 0) ? BundleFiles.CA_CERT : BundleFiles.CLIENT_CERT;
  }

  // ---- consistency -------------------------------------------------------------------------

  private void consistency() {
    if (r.failed(Check.COMPLETENESS)) {
      r.add(Check.CONSISTENCY, Status.SKIP, null, "the bundle is incomplete", null);
      return;
    }
    List<String[]> problems = new ArrayList<>();
    boolean skippedKey = consistencyProblems(b, opts.keyPassphrase(), problems);
    if (!problems.isEmpty()) {
      List<String> msgs = new ArrayList<>();
      for (String[] p : problems) {
        msgs.add(p[0] + ": " + p[1]);
      }
      r.add(Check.CONSISTENCY, Status.FAIL, Outcome.INCONSISTENT, summary(msgs), problems.get(0)[0]);
      return;
    }
    if (skippedKey) {
      r.add(Check.CONSISTENCY, Status.WARN, null, "the client key is encrypted and no passphrase was given: it was not compared with the certificate", BundleFiles.CLIENT_KEY);
      return;
    }
    r.add(Check.CONSISTENCY, Status.PASS, null, "certificates and keys agree across every file that holds them", null);
  }

  /**
   * Compares the files that must agree (the Go scb.CheckConsistency). Adds {path, problem} pairs;
   * returns true when an encrypted client key could not be compared for want of a passphrase.
   */
  static boolean consistencyProblems(BundleFiles b, char[] passphrase, List<String[]> out) {
    Metadata meta;
    try {
      meta = Metadata.parse(b.get(BundleFiles.METADATA) == null ? new byte[0] : b.get(BundleFiles.METADATA));
    } catch (BundleException e) {
      out.add(new String[] {BundleFiles.METADATA, e.getMessage()});
      return false;
    }
    ClientConfig cfg = null;
    byte[] yaml = need(b, BundleFiles.CLIENT_YAML, out);
    if (yaml != null) {
      try {
        cfg = ClientConfig.parse(yaml);
      } catch (BundleException e) {
        out.add(new String[] {BundleFiles.CLIENT_YAML, strip(e)});
      }
    }
    byte[] rootsPem = need(b, BundleFiles.CA_CERT, out);
    if (rootsPem == null) {
      return false;
    }
    List<X509Certificate> roots;
    try {
      roots = Pem.certificates(rootsPem);
    } catch (CertificateException e) {
      out.add(new String[] {BundleFiles.CA_CERT, "invalid bundle: " + e.getMessage()});
      return false;
    }
    byte[] chainPem = need(b, BundleFiles.CLIENT_CERT, out);
    if (chainPem == null) {
      return false;
    }
    X509Certificate leaf;
    try {
      leaf = Pem.certificates(chainPem).get(0);
    } catch (CertificateException e) {
      out.add(new String[] {BundleFiles.CLIENT_CERT, "invalid bundle: " + e.getMessage()});
      return false;
    }
    if (!leaf.getNotAfter().toInstant().equals(meta.getExpiresAt())) {
      out.add(new String[] {BundleFiles.METADATA, "invalid bundle: expires_at " + stamp(meta.getExpiresAt())
          + " differs from the client certificate's " + stamp(leaf.getNotAfter().toInstant())});
    }
    byte[] keyPem = need(b, BundleFiles.CLIENT_KEY, out);
    if (keyPem == null) {
      return false;
    }
    boolean encrypted = Pem.isEncryptedKey(keyPem);
    if (cfg != null && cfg.clientKeyEncrypted != encrypted) {
      out.add(new String[] {BundleFiles.CLIENT_YAML, "invalid bundle: client_key_encrypted does not match " + BundleFiles.CLIENT_KEY});
    }
    if (encrypted && (passphrase == null || passphrase.length == 0)) {
      checkStock(b, leaf, chainPem, roots, out);
      return true;
    }
    PrivateKey key;
    try {
      key = Pem.privateKey(keyPem, passphrase);
    } catch (Pem.KeyException e) {
      out.add(new String[] {BundleFiles.CLIENT_KEY, e.getMessage()});
      return false;
    }
    if (!Pem.keyMatches(leaf.getPublicKey(), key)) {
      out.add(new String[] {BundleFiles.CLIENT_KEY, "invalid bundle: private key does not match the client certificate"});
    }
    checkStock(b, leaf, chainPem, roots, out);
    return false;
  }

  private static String strip(BundleException e) {
    String m = e.getMessage();
    String p = e.getPath();
    return p != null && m.startsWith(p + ": ") ? m.substring(p.length() + 2) : m;
  }

  private static byte[] need(BundleFiles b, String p, List<String[]> out) {
    byte[] d = b.get(p);
    if (d == null) {
      out.add(new String[] {p, "required file missing"});
      return null;
    }
    if (d.length == 0) {
      out.add(new String[] {p, "required file is empty"});
      return null;
    }
    return d;
  }

  private static void checkStock(BundleFiles b, X509Certificate leaf, byte[] chainPem, List<X509Certificate> roots, List<String[]> out) {
    int present = 0;
    for (String p : BundleFiles.STOCK) {
      if (b.has(p)) {
        present++;
      }
    }
    if (present == 0) {
      return;
    }
    for (String p : BundleFiles.STOCK.subList(0, 5)) {
      need(b, p, out);
    }
    if (b.has(BundleFiles.CLOUD_IDENTITY) != b.has(BundleFiles.CLOUD_TRUSTSTORE)) {
      need(b, BundleFiles.CLOUD_IDENTITY, out);
      need(b, BundleFiles.CLOUD_TRUSTSTORE, out);
    }
    byte[] ccData = b.get(BundleFiles.CLOUD_CONFIG);
    if (ccData == null || ccData.length == 0) {
      return;
    }
    ClientConfig.Cloud cc;
    try {
      cc = ClientConfig.parseCloud(ccData);
    } catch (BundleException e) {
      out.add(new String[] {BundleFiles.CLOUD_CONFIG, strip(e)});
      return;
    }
    byte[] caCrt = b.get(BundleFiles.CLOUD_CA);
    if (caCrt != null) {
      try {
        List<X509Certificate> cas = Pem.certificates(caCrt);
        if (cas.size() != 1) {
          out.add(new String[] {BundleFiles.CLOUD_CA, "invalid bundle: must hold exactly one certificate, holds " + cas.size()});
        } else if (!Arrays.equals(cas.get(0).getEncoded(), roots.get(0).getEncoded())) {
          out.add(new String[] {BundleFiles.CLOUD_CA, "invalid bundle: differs from the first certificate of " + BundleFiles.CA_CERT});
        } else if (!selfSignedCA(cas.get(0))) {
          out.add(new String[] {BundleFiles.CLOUD_CA, "invalid bundle: is not a self-signed root"});
        }
      } catch (CertificateException e) {
        out.add(new String[] {BundleFiles.CLOUD_CA, "invalid bundle: " + e.getMessage()});
      }
    }
    byte[] cert = b.get(BundleFiles.CLOUD_CERT);
    if (cert != null && !Arrays.equals(cert, chainPem)) {
      out.add(new String[] {BundleFiles.CLOUD_CERT, "invalid bundle: differs from " + BundleFiles.CLIENT_CERT});
    }
    byte[] key = b.get(BundleFiles.CLOUD_KEY);
    if (key != null && key.length > 0) {
      try {
        PrivateKey k = Pem.privateKey(key, null);
        if (!Pem.keyMatches(leaf.getPublicKey(), k)) {
          out.add(new String[] {BundleFiles.CLOUD_KEY, "invalid bundle: does not match the client certificate"});
        }
      } catch (Pem.KeyException e) {
        out.add(new String[] {BundleFiles.CLOUD_KEY, e.getMessage()});
      }
    }
    byte[] pfx = b.get(BundleFiles.CLOUD_PFX);
    if (pfx != null && pfx.length > 0) {
      sameIdentity(BundleFiles.CLOUD_PFX, "PKCS12", pfx, cc.pfxCertPassword, "pfxCertPassword", leaf, out);
    }
    byte[] id = b.get(BundleFiles.CLOUD_IDENTITY);
    if (id != null && id.length > 0) {
      sameIdentity(BundleFiles.CLOUD_IDENTITY, "JKS", id, cc.keyStorePassword, "keyStorePassword", leaf, out);
    }
    byte[] ts = b.get(BundleFiles.CLOUD_TRUSTSTORE);
    if (ts != null && ts.length > 0) {
      try {
        KeyStore store = loadStore("JKS", ts, cc.trustStorePassword);
        boolean found = false;
        for (String alias : Collections.list(store.aliases())) {
          Certificate c = store.getCertificate(alias);
          if (c != null && Arrays.equals(c.getEncoded(), roots.get(0).getEncoded())) {
            found = true;
          }
        }
        if (!found) {
          out.add(new String[] {BundleFiles.CLOUD_TRUSTSTORE, "invalid bundle: does not hold the CA certificate"});
        }
      } catch (Exception e) {
        out.add(new String[] {BundleFiles.CLOUD_TRUSTSTORE, "invalid bundle: cannot be opened with trustStorePassword from config.json"});
      }
    }
  }

  static KeyStore loadStore(String type, byte[] data, String password) throws Exception {
    KeyStore ks = KeyStore.getInstance(type);
    ks.load(new ByteArrayInputStream(data), password.toCharArray());
    return ks;
  }

  private static void sameIdentity(String p, String type, byte[] data, String password, String field, X509Certificate leaf, List<String[]> out) {
    KeyStore ks;
    try {
      ks = loadStore(type, data, password);
    } catch (Exception e) {
      out.add(new String[] {p, "invalid bundle: cannot be opened with " + field + " from config.json"});
      return;
    }
    try {
      for (String alias : Collections.list(ks.aliases())) {
        if (!ks.isKeyEntry(alias)) {
          continue;
        }
        Certificate[] chain = ks.getCertificateChain(alias);
        if (chain == null || chain.length == 0 || !Arrays.equals(chain[0].getEncoded(), leaf.getEncoded())) {
          out.add(new String[] {p, "invalid bundle: holds a different certificate than " + BundleFiles.CLIENT_CERT});
          return;
        }
        Key k = ks.getKey(alias, password.toCharArray());
        if (!(k instanceof PrivateKey) || !Pem.keyMatches(leaf.getPublicKey(), (PrivateKey) k)) {
          out.add(new String[] {p, "invalid bundle: holds a different private key than " + BundleFiles.CLIENT_KEY});
        }
        return;
      }
      out.add(new String[] {p, "invalid bundle: holds a different certificate than " + BundleFiles.CLIENT_CERT});
    } catch (Exception e) {
      out.add(new String[] {p, "invalid bundle: cannot be opened with " + field + " from config.json"});
    }
  }

  static boolean selfSignedCA(X509Certificate c) {
    try {
      c.verify(c.getPublicKey());
      return c.getBasicConstraints() >= 0;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
