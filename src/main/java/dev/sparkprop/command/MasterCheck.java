package dev.sparkprop.command;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.rpc.RpcEnv;
import scala.concurrent.Await;
import scala.concurrent.duration.Duration;

/**
 * Asks a standalone master whether it will talk to this application before the SparkContext
 * starts. Spark's own client retries a master that drops it three times, 20 s apart, and then
 * fails with its connection traces; a cluster from {@code submit/cluster-up} drops every
 * connection that does not authenticate with its secret. This check opens one RPC connection
 * with the application's own settings (its {@code spark.authenticate} and secret) and turns a
 * refusal into one line and exit 2 within seconds.
 */
public final class MasterCheck {
  private MasterCheck() {}

  private static final String HANDSHAKE_LOGGER = "org.apache.spark.network.client.TransportClientFactory";

  /** How long one master may take to answer. */
  static final long TIMEOUT_SECONDS = 20;

  /**
   * Checks the master of {@code conf} when it is a standalone master ({@code spark://}, one URL
   * or several for a master with standby); any other master passes.
   *
   * @throws IllegalArgumentException the master could not be reached or refused this
   *     application: the message says which and what to do
   */
  public static void check(SparkConf conf) {
    String master = conf.get("spark.master", "");
    if (!master.startsWith("spark://")) return;
    SecurityManager security;
    try {
      security = new SecurityManager(conf, SecurityManager.$lessinit$greater$default$2(),
          SecurityManager.$lessinit$greater$default$3());
      security.initializeAuth();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("master " + master + ": this application's authentication settings are "
          + "incomplete (" + e.getMessage() + "); for a cluster from submit/cluster-up submit with submit/train-cluster, "
          + "which passes its secret", e);
    }
    // Spark's client logs a failed handshake with its trace at ERROR; the refusal is reported
    // here in one line instead.
    Level level = LogManager.getLogger(HANDSHAKE_LOGGER).getLevel();
    Configurator.setLevel(HANDSHAKE_LOGGER, Level.OFF);
    RpcEnv env = RpcEnv.create("sparkprop-master-check", "127.0.0.1", 0, conf, security, true);
    try {
      List<String> failures = new ArrayList<>();
      for (String hostPort : master.substring("spark://".length()).split(",")) {
        String uri = "spark://Master@" + hostPort.trim();
        try {
          Await.result(env.asyncSetupEndpointRefByURI(uri), Duration.create(TIMEOUT_SECONDS, TimeUnit.SECONDS));
          return; // one master answered: Spark's client takes it from here
        } catch (Exception e) {
          failures.add(hostPort.trim() + ": " + reason(e, security.isAuthenticationEnabled()));
        }
      }
      throw new IllegalArgumentException("master " + master + " did not accept this application (" + String.join("; ", failures) + ")");
    } finally {
      env.shutdown();
      Configurator.setLevel(HANDSHAKE_LOGGER, level);
    }
  }

  /** What went wrong with one master, and what to do about it. */
  private static String reason(Exception e, boolean authenticating) {
    StringBuilder chain = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      chain.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
    }
    String all = chain.toString();
    if (all.contains("Connection refused")) {
      return "connection refused; is the cluster running (submit/cluster-up) and the master URL right?";
    }
    if (e instanceof java.util.concurrent.TimeoutException || all.contains("TimeoutException")) {
      return "no answer within " + TIMEOUT_SECONDS + " s; is the master URL right and the port reachable?";
    }
    if (all.contains("Failed to connect") && all.contains("UnknownHost")) {
      return "unknown host; is the master URL right?";
    }
    if (authenticating) {
      return "the authentication handshake failed: it refused this application's secret, or it does not use "
          + "spark.authenticate; submit with submit/train-cluster, which passes the secret of a cluster from "
          + "submit/cluster-up, or set spark.authenticate.secret to the cluster's";
    }
    return "it closed the connection (" + firstLine(e) + "); a cluster from submit/cluster-up admits only applications "
        + "with its secret (spark.authenticate): submit with submit/train-cluster, which passes it";
  }

  private static String firstLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return m.split("\n")[0];
  }
}
