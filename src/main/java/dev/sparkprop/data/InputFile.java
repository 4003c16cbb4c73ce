package dev.sparkprop.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What every input file (data, model, configuration) must be before anything opens it: a regular
 * file or a folder, readable by this process. A named pipe in place of a data file would block
 * its reader forever, and a file this user may not read would surface as a raw
 * {@code FileNotFoundException ... (Permission denied)} from deep inside a reader; both are named
 * here instead. Only local paths are checked: the other Hadoop file systems hold only files and
 * folders and check access when a file is opened (see {@link #deniedMessage}).
 */
public final class InputFile {
  private InputFile() {}

  /** Why {@code p} cannot be read as an input, or null when it can (or is not on the local file system). */
  public static String problem(FileSystem fs, Path p) {
    if (!"file".equals(fs.getUri().getScheme())) return null;
    return problem(java.nio.file.Path.of(fs.makeQualified(p).toUri()));
  }

  /** Why the local file {@code p} cannot be read as an input, or null when it can (or does not exist: the caller says so). */
  public static String problem(java.nio.file.Path p) {
    if (!Files.exists(p)) return null;
    String kind = special(p);
    if (kind != null) return "is " + kind + ", not a regular file or folder; give the file itself";
    boolean dir = Files.isDirectory(p);
    if (!Files.isReadable(p) || (dir && !Files.isExecutable(p))) return denied(p);
    return null;
  }

  /** As {@link #problem(java.nio.file.Path)}, thrown as a {@link BadInputException} naming {@code p}. */
  public static void check(FileSystem fs, Path p) {
    String why = problem(fs, p);
    if (why != null) throw new BadInputException(p + ": " + why);
  }

  /**
   * The one-line message for an access failure met while opening {@code p} (a local
   * {@code FileNotFoundException "(Permission denied)"}, Hadoop's {@code AccessControlException}),
   * or null when {@code e} is not one.
   */
  public static String deniedMessage(Object p, IOException e) {
    String m = String.valueOf(e.getMessage());
    boolean denied = e instanceof java.nio.file.AccessDeniedException || m.contains("Permission denied")
        || e.getClass().getName().endsWith("AccessControlException");
    if (!denied) return null;
    return p + ": permission denied for user " + System.getProperty("user.name")
        + "; make it readable by that user (chmod a+r, or run as its owner)";
  }

  private static String denied(java.nio.file.Path p) {
    String mode = "";
    try {
      mode = " (mode " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)) + ", owner "
          + Files.getOwner(p).getName() + ")";
    } catch (IOException | UnsupportedOperationException e) {
      // the mode is only a hint
    }
    return "permission denied for user " + System.getProperty("user.name") + mode
        + "; make it readable by that user (chmod a+r, or run as its owner)";
  }

  /** "a named pipe (FIFO)", "a socket", "a device" or null, for a local path (links followed). */
  private static String special(java.nio.file.Path p) {
    int mode;
    try {
      mode = (Integer) Files.getAttribute(p, "unix:mode");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      try {
        return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).isOther()
            ? "a pipe, socket or device" : null;
      } catch (IOException e2) {
        return null;
      }
    }
    return switch (mode & 0170000) {
      case 0010000 -> "a named pipe (FIFO)";
      case 0140000 -> "a socket";
      case 0020000, 0060000 -> "a device";
      default -> null;
    };
  }
}
