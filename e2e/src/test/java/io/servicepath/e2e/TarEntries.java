package io.servicepath.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reads one file out of a plain (uncompressed) tar stream: enough for an image tarball's manifest. */
final class TarEntries {

  private TarEntries() {}

  static String read(InputStream tar, String name) throws IOException {
    byte[] header = new byte[512];
    while (tar.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
      String entry = field(header, 0, 100);
      long size = Long.parseLong(field(header, 124, 12).trim(), 8);
      long padded = (size + 511) / 512 * 512;
      if (entry.equals(name) || entry.equals("./" + name)) {
        byte[] content = tar.readNBytes((int) size);
        return new String(content, StandardCharsets.UTF_8);
      }
      tar.skipNBytes(padded);
    }
    throw new IOException("no " + name + " in the tarball");
  }

  private static String field(byte[] header, int offset, int length) {
    int end = offset;
    while (end < offset + length && header[end] != 0) {
      end++;
    }
    return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
  }
}
