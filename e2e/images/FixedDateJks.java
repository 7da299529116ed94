import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.List;

/**
 * Rewrites a JKS trust store (Debian's /etc/ssl/certs/java/cacerts) with its entries sorted by
 * alias and every entry dated EPOCH-SECONDS, so that the JRE base layer is the same bytes at each
 * build: ca-certificates-java dates each entry with the time it was added.
 *
 * Writes the JKS format as the JDK's JavaKeyStore does (version 2, trusted certificate entries
 * only) and reads the result back, which checks its integrity digest. Run with the image's own
 * java (source-file mode):
 *
 *   java FixedDateJks.java /etc/ssl/certs/java/cacerts changeit 1704067200
 */
public final class FixedDateJks {
  public static void main(String[] args) throws Exception {
    String file = args[0];
    char[] password = args[1].toCharArray();
    long dateMillis = Long.parseLong(args[2]) * 1000;

    KeyStore in = KeyStore.getInstance("JKS");
    try (InputStream is = new FileInputStream(file)) {
      in.load(is, password);
    }
    List<String> aliases = Collections.list(in.aliases());
    Collections.sort(aliases);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(0xFEEDFEED); // JKS magic
    out.writeInt(2); // version
    out.writeInt(aliases.size());
    for (String alias : aliases) {
      if (!in.isCertificateEntry(alias)) {
        throw new IllegalStateException(alias + " is not a trusted certificate entry");
      }
      Certificate cert = in.getCertificate(alias);
      byte[] encoded = cert.getEncoded();
      out.writeInt(2); // trusted certificate entry
      out.writeUTF(alias);
      out.writeLong(dateMillis);
      out.writeUTF(cert.getType());
      out.writeInt(encoded.length);
      out.write(encoded);
    }
    out.flush();

    // The integrity digest: SHA-1 of the password (UTF-16BE), "Mighty Aphrodite" and the data.
    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
    for (char c : password) {
      sha1.update((byte) (c >> 8));
      sha1.update((byte) c);
    }
    sha1.update("Mighty Aphrodite".getBytes(StandardCharsets.UTF_8));
    sha1.update(bytes.toByteArray());
    out.write(sha1.digest());
    out.flush();

    try (OutputStream os = new FileOutputStream(file)) {
      os.write(bytes.toByteArray());
    }

    KeyStore check = KeyStore.getInstance("JKS");
    try (InputStream is = new FileInputStream(file)) {
      check.load(is, password);
    }
    if (check.size() != aliases.size()) {
      throw new IllegalStateException("wrote " + check.size() + " entries, expected " + aliases.size());
    }
    System.out.println(file + ": " + aliases.size() + " certificates, dated " + args[2]);
  }
}
