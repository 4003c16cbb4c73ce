package dev.sparkprop.train;

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

/**
 * One run at a time in a run directory: an exclusive lock on {@code OUT/.lock}, taken before
 * anything is written there and held until the run ends. It is an operating-system lock, so the
 * system drops it when its process dies: the directory of a killed run can be resumed at once,
 * and a lock file left behind blocks nobody. The file says who holds it, for the message a second
 * run gets.
 */
public final class RunLock implements AutoCloseable {
  static final String FILE = ".lock";
  private final FileChannel channel;
  private final FileLock lock;
  private final Path dir;
  private final boolean created; // the folder did not exist before this lock

  private RunLock(FileChannel channel, FileLock lock, Path dir, boolean created) {
    this.channel = channel;
    this.lock = lock;
    this.dir = dir;
    this.created = created;
  }

  /**
   * Creates {@code dir} if needed and takes its lock.
   *
   * @throws ConfigException if another live run holds it, or the directory cannot be created or
   *     written (both are refusals before the run starts: exit 2)
   */
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
        throw new ConfigException("out: " + dir + " is in use by another run" + (holder.isEmpty() ? "" : " (" + holder + ")")
            + "; wait for it to end, or choose another out=");
      }
      String me = "process " + ProcessHandle.current().pid() + " on " + host() + ", since " + Instant.now();
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(me.getBytes(StandardCharsets.UTF_8)), 0);
      return new RunLock(ch, lock, dir, created);
    } catch (IOException e) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the lock goes with the channel
      }
      throw new ConfigException("out: cannot lock " + dir.resolve(FILE) + " (" + reason(e) + "); choose another out=");
    }
  }

  private static String reason(Exception e) {
    if (e instanceof java.nio.file.FileAlreadyExistsException f) return f.getFile() + " exists and is not a folder";
    if (e instanceof java.nio.file.AccessDeniedException a) return "permission denied: " + a.getFile();
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getFile() + ": " + f.getReason();
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
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
    try {
      lock.release();
      channel.close();
      if (created) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
          if (files.allMatch(f -> f.getFileName().toString().equals(FILE))) {
            Files.deleteIfExists(dir.resolve(FILE));
            Files.deleteIfExists(dir);
          }
        }
      }
    } catch (IOException e) {
      // the process ends soon; the system drops the lock then
    }
  }
}
