package dev.sparkprop.run;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.io.HadoopFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * One run at a time in a run directory: a lock on {@code OUT/.lock}, taken before anything is
 * written there and held until the run ends. The file says who holds it, for the message a second
 * run gets.
 *
 * <ul>
 *   <li>On the local disk it is an operating-system lock, which the system drops when its process
 *       dies: the directory of a killed run can be resumed at once, and a lock file left behind
 *       blocks nobody.
 *   <li>On HDFS (any file system with append) it is the file's lease: the run creates the file
 *       and keeps it open for writing; another run's create or append fails while the lease is
 *       held. The lease of a killed run expires after HDFS's soft limit (about a minute), then the
 *       next run's append recovers it and takes the lock.
 *   <li>On a file system without append (object stores such as S3A) there is nothing to hold:
 *       the run says so on standard error and goes on unguarded.
 * </ul>
 */
public final class RunLock implements AutoCloseable {
  static final String FILE = ".lock";
  private final FileChannel channel; // local
  private final FileLock lock;
  private final Path dir;
  private final FSDataOutputStream lease; // Hadoop file system
  private final FileSystem fs;
  private final org.apache.hadoop.fs.Path remoteDir;
  private final boolean created; // the folder did not exist before this lock

  private RunLock(FileChannel channel, FileLock lock, Path dir, FSDataOutputStream lease, FileSystem fs,
      org.apache.hadoop.fs.Path remoteDir, boolean created) {
    this.channel = channel;
    this.lock = lock;
    this.dir = dir;
    this.lease = lease;
    this.fs = fs;
    this.remoteDir = remoteDir;
    this.created = created;
  }

  /**
   * Creates the run directory {@code location} (a local path or any Hadoop FileSystem URI) if
   * needed and takes its lock.
   *
   * @throws ConfigException if another live run holds it, or the directory cannot be created or
   *     written (both are refusals before the run starts: exit 2)
   */
  public static RunLock take(String location) {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
    FileSystem f;
    try {
      f = HadoopFiles.fs(p);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("out: cannot use " + location + " as the run directory (" + reason(e)
          + "); choose a folder you can write, with out=");
    }
    if (f instanceof RawLocalFileSystem raw) return take(raw.pathToFile(p).toPath());
    return takeRemote(location, p, f);
  }

  /** Creates {@code dir} on the local disk if needed and takes its lock. */
  public static RunLock take(Path dir) {
    FileChannel ch;
    boolean created = !Files.exists(dir);
    try {
      Files.createDirectories(dir);
      ch = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException | SecurityException e) {
      throw new ConfigException("out: cannot use " + dir + " as the run directory (" + reason(e)
          + "); choose a folder you can write, with out=");
    }
    try {
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by another run in this JVM
      }
      if (lock == null) {
        String holder = new String(Files.readAllBytes(dir.resolve(FILE)), StandardCharsets.UTF_8).trim();
        ch.close();
        throw inUse(dir.toString(), holder, "");
      }
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(me().getBytes(StandardCharsets.UTF_8)), 0);
      return new RunLock(ch, lock, dir, null, null, null, created);
    } catch (IOException e) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the lock goes with the channel
      }
      throw new ConfigException("out: cannot lock " + dir.resolve(FILE) + " (" + reason(e) + "); choose another out=");
    }
  }

  private static RunLock takeRemote(String location, org.apache.hadoop.fs.Path dir, FileSystem fs) {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir, FILE);
    boolean created;
    try {
      created = !fs.exists(dir);
      fs.mkdirs(dir);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("out: cannot use " + location + " as the run directory (" + reason(e)
          + "); choose a folder you can write, with out=");
    }
    String released = "; a killed run's lock is released when its HDFS lease expires (about a minute)";
    FSDataOutputStream out;
    try {
      out = fs.create(file, false);
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException exists) {
      // a closed lock file: its run ended, or was killed and its lease recovered
      try {
        out = fs.append(file);
      } catch (UnsupportedOperationException noAppend) {
        System.err.println("warning: out: " + location + " is on a file system without append ("
            + fs.getScheme() + "); the run directory is not locked against a second run");
        return new RunLock(null, null, null, null, fs, dir, false);
      } catch (IOException held) {
        throw inUse(location, holder(fs, file), released); // taken by another run in between
      }
    } catch (UnsupportedOperationException | IOException e) {
      // an open lock file: HDFS refuses the create while its lease is held (AlreadyBeingCreated)
      // or being recovered (RecoveryInProgress)
      if (exists(fs, file)) throw inUse(location, holder(fs, file), released);
      throw new ConfigException("out: cannot lock " + file + " (" + reason(e) + "); choose another out=");
    }
    try {
      out.write(("\n" + me()).getBytes(StandardCharsets.UTF_8));
      out.hflush(); // readable by a second run, for its message
    } catch (IOException e) {
      throw new ConfigException("out: cannot lock " + file + " (" + reason(e) + "); choose another out=");
    }
    return new RunLock(null, null, null, out, fs, dir, created);
  }

  private static boolean exists(FileSystem fs, org.apache.hadoop.fs.Path file) {
    try {
      return fs.exists(file);
    } catch (IOException e) {
      return false;
    }
  }

  /** The last holder line of a lock file on a Hadoop file system ("" if unreadable). */
  private static String holder(FileSystem fs, org.apache.hadoop.fs.Path file) {
    try (java.io.InputStream in = fs.open(file)) {
      String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\n");
      return lines[lines.length - 1].trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static ConfigException inUse(String where, String holder, String more) {
    return new ConfigException("out: " + where + " is in use by another run" + (holder.isEmpty() ? "" : " (" + holder + ")")
        + "; wait for it to end, or choose another out=" + more);
  }

  private static String me() {
    return "process " + ProcessHandle.current().pid() + " on " + host() + ", since " + Instant.now();
  }

  private static String reason(Exception e) {
    if (e instanceof java.nio.file.FileAlreadyExistsException f) return f.getFile() + " exists and is not a folder";
    if (e instanceof java.nio.file.AccessDeniedException a) return "permission denied: " + a.getFile();
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getFile() + ": " + f.getReason();
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl); // Hadoop's remote exceptions carry their stack below the first line
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "this host";
    }
  }

  /**
   * Releases the lock. A folder this lock created and nothing else used (a run refused by its
   * checks) is removed again, so that a refused run leaves nothing behind.
   */
  @Override
  public void close() {
    close(false);
  }

  /**
   * Releases the lock; {@code refused}: the run was refused (exit 2 or 3), so the configuration it
   * wrote into a folder this lock created goes too (a refusal met after Spark started, such as a
   * bad table row, comes after {@code config.properties} is written), and then the folder.
   */
  public void close(boolean refused) {
    try {
      if (channel != null) {
        lock.release();
        channel.close();
        if (created) {
          if (refused) Files.deleteIfExists(dir.resolve(RunDirectory.CONFIG));
          try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            if (files.allMatch(f -> f.getFileName().toString().equals(FILE))) {
              Files.deleteIfExists(dir.resolve(FILE));
              Files.deleteIfExists(dir);
            }
          }
        }
        return;
      }
      if (lease == null) return; // not locked (no append)
      lease.close();
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(remoteDir, FILE);
      fs.delete(file, false);
      if (created && refused) fs.delete(new org.apache.hadoop.fs.Path(remoteDir, RunDirectory.CONFIG), false);
      if (created && fs.listStatus(remoteDir).length == 0) fs.delete(remoteDir, false);
    } catch (IOException e) {
      // the process ends soon; the system drops the lock (or HDFS the lease) then
    }
  }
}
