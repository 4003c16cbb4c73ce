package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.TrainConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * "interrupted at ..." is printed for SIGTERM and SIGINT only: a JVM that exits for another
 * reason (Spark's handler of an OutOfMemoryError calls System.exit) runs the same shutdown hook,
 * and said "interrupted before training started" although nobody interrupted it.
 */
class InterruptionTest {
  /** The child: watches like Train does, then exits by {@code System.exit} or by a SIGTERM to itself. */
  public static void main(String[] args) throws Exception {
    new Interruption(TrainConfig.of(Map.of("out", "runs/x")));
    if (args[0].equals("exit")) System.exit(52); // what Spark's uncaught-exception handler does on OOM
    new ProcessBuilder("kill", "-TERM", String.valueOf(ProcessHandle.current().pid())).start().waitFor();
    Thread.sleep(60_000);
  }

  private static String[] child(String how) throws Exception {
    Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), InterruptionTest.class.getName(), how)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
    return new String[] {String.valueOf(p.exitValue()), err};
  }

  @Test
  void onlyASignalIsReportedAsAnInterruption() throws Exception {
    String[] exit = child("exit");
    assertEquals("52", exit[0], exit[1]);
    assertFalse(exit[1].contains("interrupted"), exit[1]);
    String[] term = child("term");
    assertEquals("143", term[0], term[1]);
    assertTrue(term[1].contains("interrupted before training started; no checkpoints were written"), term[1]);
  }
}
