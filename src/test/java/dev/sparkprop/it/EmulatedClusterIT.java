package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkprop.train.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The short version of {@code submit/scaling-demo --emulate}: four emulated hosts (network
 * namespaces with shaped links, a Spark worker in each), the star and the tree, a few steps of
 * the reference CNN's and 784-512-10's gradient sizes with the compute stand-in, at 10 Gbit/s and
 * unshaped; its table, CSV, charts and JSON line, the cost model fitted on 1 and 2 hosts and
 * checked on 4 held out; and afterwards no namespace and no process of it left. Skipped, loudly,
 * only where this machine refuses {@code ip netns add} (not root).
 */
class EmulatedClusterIT {
  private final Path root = TestData.projectDir();
  private final Path out = root.resolve("target/it-emulated");
  private static final String PREFIX = "spxit";

  private static String run(List<String> cmd, long minutes, java.util.Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("SPARK_HOME");
    pb.environment().remove("SPARK_CONF_DIR");
    pb.environment().putAll(env);
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(minutes, TimeUnit.MINUTES), cmd + " did not finish");
    return p.exitValue() + "\n" + text;
  }

  @Test
  void starAndTreeOnFourEmulatedHostsLeaveNothingBehind() throws Exception {
    String probe = run(List.of("ip", "netns", "add", PREFIX + "-probe"), 1, java.util.Map.of());
    if (!probe.startsWith("0\n")) {
      System.err.println("EmulatedClusterIT SKIPPED: this machine refuses 'ip netns add' (" + probe.trim().replace('\n', ' ')
          + "); the emulated cluster needs root");
      Assumptions.abort("ip netns add refused: " + probe.trim());
    }
    run(List.of("ip", "netns", "del", PREFIX + "-probe"), 1, java.util.Map.of());
    java.util.Map<String, String> env = new java.util.HashMap<>();
    env.put("SPARKPROP_NETNS_PREFIX", PREFIX);
    env.put("SPARKPROP_EMULATED_DIR", out.resolve("state").toString());
    env.put("EMULATE_OUT", out.resolve("report").toString());
    env.put("EMULATE_RATES", "10gbit none");
    env.put("EMULATE_HOSTS", "1 2 4");
    env.put("EMULATE_TOPOLOGIES", "star tree");
    env.put("EMULATE_NETS", "cnn 784,512,10");
    env.put("EMULATE_STEPS", "8");
    env.put("EMULATE_WARMUP", "3");
    env.put("SPARKPROP_MASTER_PORT", "7377");
    env.put("SPARKPROP_MASTER_UI_PORT", "8377");
    String r = run(List.of(root.resolve("submit/scaling-demo").toString(), "--emulate", "4"), 12, env);
    try {
      assertTrue(r.startsWith("0\n"), r);
      assertTrue(r.contains("emulated cluster up: 4 worker hosts"), r);
      assertTrue(r.contains("emulated cluster down: removed 6 network namespaces"), r);
      String json = r.lines().filter(l -> l.startsWith("JSON ")).reduce((a, b) -> b).orElseThrow().substring(5);
      JsonNode points = new ObjectMapper().readTree(json).path("points");
      Set<String> seen = new HashSet<>();
      for (JsonNode p : points) {
        double eff = p.path("efficiency").asDouble();
        assertTrue(eff > 0 && eff < 1.05, "efficiency of " + p);
        assertTrue(p.path("step_ms").asDouble() > p.path("compute_ms").asDouble() * 0.98, "a step outlasts its stand-in: " + p);
        assertTrue(Set.of("10gbit", "none").contains(p.path("rate").asText()), "rate of " + p);
        assertEquals("fp32", p.path("wire").asText());
        seen.add(p.path("rate").asText() + "/" + p.path("network").asText() + "/" + p.path("topology").asText() + "/" + p.path("hosts").asInt());
      }
      for (String rate : new String[] {"10gbit", "none"}) {
        for (String net : new String[] {"cnn", "784-512-10"}) {
          for (String topo : new String[] {"star", "tree"}) {
            for (int n : new int[] {1, 2, 4}) {
              String k = rate + "/" + net + "/" + topo + "/" + n;
              assertTrue(seen.contains(k), k + " in " + seen);
            }
          }
        }
      }
      Path report = out.resolve("report");
      assertTrue(Files.readString(report.resolve("emulated.csv")).lines().count() == 25, "24 points and a header");
      // the cost model: links fitted on the shaped points of 1 and 2 hosts, checked on the 4 held out
      assertTrue(r.contains("exchange model: links fitted on 8 shaped points with fewer than 4 hosts, the rest on 12 unshaped points"), r);
      List<String> validation = Files.readAllLines(report.resolve("exchange_validation.csv"));
      assertEquals(13, validation.size(), "12 shaped points and a header: " + validation);
      assertTrue(validation.stream().filter(l -> l.contains(",true,")).count() == 4, "4 held out: " + validation);
      assertTrue(Files.readString(report.resolve("exchange_projection.csv")).contains(",tree,fp32,512,"));
      assertTrue(Files.size(report.resolve("emulated_cnn.png")) > 1000);
    } finally {
      // nothing of it may be left: no namespace of ours, no process started in its cluster's folder
      String ns = run(List.of("ip", "netns", "list"), 1, java.util.Map.of());
      String state = out.resolve("state").toString();
      List<ProcessHandle> left = ProcessHandle.allProcesses()
          .filter(h -> h.info().commandLine().map(c -> c.contains(state)).orElse(false)).toList();
      if (ns.contains(PREFIX + "-") || !left.isEmpty()) {
        run(List.of(root.resolve("submit/emulated-cluster").toString(), "down"), 2, env); // clean up for the next test
      }
      assertFalse(ns.contains(PREFIX + "-"), "namespaces left: " + ns);
      assertTrue(left.isEmpty(), "processes left: " + left);
    }
  }
}
