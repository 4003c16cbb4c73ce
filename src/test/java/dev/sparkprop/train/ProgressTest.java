package dev.sparkprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private static String run(boolean bar) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    Progress p = new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), bar, 4);
    for (int k = 0; k < 10; k++) p.step(2, k, 10, 1.0 / (k + 1), 128L * (k + 1), 0.5 * (k + 1));
    p.endEpoch();
    return b.toString(StandardCharsets.UTF_8);
  }

  @Test
  void plainModePrintsTheNotebookLinesEveryLogEvery() {
    assertEquals("loss at batch 0: 1.00\nloss at batch 4: 0.20\nloss at batch 8: 0.11\n", run(false).replace("\r", ""));
  }

  @Test
  void barModeRedrawsOneLineAndClearsIt() {
    String out = run(true);
    assertTrue(!out.contains("\n"), "the bar never ends a line: " + out);
    // the first step draws at once; the last always draws: 10/10, rate 256 samples/s, nothing left
    assertTrue(out.startsWith("\repoch 3 [###...........................] 1/10 loss 1.0000 256 samples/s 0:05 left "), out);
    assertTrue(out.contains("\repoch 3 [##############################] 10/10 loss 0.1000 256 samples/s 0:00 left "), out);
    assertTrue(out.endsWith("\r"), "cleared for the epoch line");
  }
}
