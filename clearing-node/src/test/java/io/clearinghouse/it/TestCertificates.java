package io.clearinghouse.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Throw-away certificates made in the test JVM itself (BouncyCastle's certificate builder on the
 * JDK's RSA keys; keytool processes took half a second each): a certificate authority and node
 * certificates it signs (RSA 2048, SHA256withRSA, valid two days, for 127.0.0.1, localhost and
 * clearing-node), written as the PEM files cert-manager mounts ({@code ca.crt}, {@code tls.crt}
 * with the chain, {@code tls.key} PKCS#8), the node's key and chain also as {@code node.p12}
 * (PKCS#12, password {@code test-only}). The same extensions keytool gave them: the authority's
 * basic constraints (CA, critical) and key identifiers, the node's subject alternative names.
 * Nothing here is a secret that matters.
 */
public final class TestCertificates {
  private static final String PASS = "test-only";
  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One authority: its directory with {@code ca.crt}, and its signing key (in memory only). */
  public record Authority(Path dir, String name, X509Certificate certificate, PrivateKey signingKey) {
    public Path caFile() {
      return dir.resolve("ca.crt");
    }

    /** A trust manager that trusts this authority only. */
    public TrustManager trustManager() {
      try (InputStream in = Files.newInputStream(caFile())) {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers()[0];
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /** A client TLS context trusting this authority only. */
    public SSLContext clientContext() {
      try {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustManager()}, null);
        return context;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * A node key pair signed by this authority, in {@code dir/<name>/}: {@code tls.crt} (the node
     * certificate, then the authority's), {@code tls.key}, a copy of {@code ca.crt}, and
     * {@code node.p12} with the key and that chain.
     */
    public Path issue(String nodeName) {
      Path out = dir.resolve(nodeName);
      try {
        Files.createDirectories(out);
        KeyPair pair = rsaKeyPair();
        X509v3CertificateBuilder builder = builder(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
            "CN=" + nodeName, pair.getPublic());
        JcaX509ExtensionUtils ids = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.authorityKeyIdentifier, false, ids.createAuthorityKeyIdentifier(certificate));
        builder.addExtension(Extension.subjectKeyIdentifier, false, ids.createSubjectKeyIdentifier(pair.getPublic()));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.dNSName, "clearing-node"),
            new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        X509Certificate node = sign(builder, signingKey);
        Files.writeString(out.resolve("tls.crt"), pem("CERTIFICATE", node.getEncoded())
            + Files.readString(caFile()));
        Files.copy(caFile(), out.resolve("ca.crt"));
        Files.writeString(out.resolve("tls.key"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("node", pair.getPrivate(), PASS.toCharArray(), new Certificate[] {node, certificate});
        try (OutputStream file = Files.newOutputStream(out.resolve("node.p12"))) {
          store.store(file, PASS.toCharArray());
        }
        return out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private TestCertificates() {}

  /** A new certificate authority (self-signed) in a new temporary directory. */
  public static Authority authority(String name) {
    try {
      Path dir = Files.createTempDirectory("test-ca-" + name);
      KeyPair pair = rsaKeyPair();
      X509v3CertificateBuilder builder = builder(new X500Name("CN=" + name), "CN=" + name, pair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.subjectKeyIdentifier, false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate ca = sign(builder, pair.getPrivate());
      Files.writeString(dir.resolve("ca.crt"), pem("CERTIFICATE", ca.getEncoded()));
      return new Authority(dir, name, ca, pair.getPrivate());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair rsaKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048, RANDOM);
    return generator.generateKeyPair();
  }

  /** A certificate from {@code issuer} to {@code subject}, valid from now for two days. */
  private static X509v3CertificateBuilder builder(X500Name issuer, String subject, PublicKey key) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(63, RANDOM).add(BigInteger.ONE),
        Date.from(now), Date.from(now.plus(VALIDITY)), new X500Name(subject), key);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** The first certificate of a PEM file. */
  public static X509Certificate certificate(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }
}
