package dev.sparkprop.train.sync;

import org.apache.spark.broadcast.Broadcast;

/**
 * Destroys broadcasts without waiting (a blocking destroy costs a round trip to every executor
 * every step: docs/PERFORMANCE.md, "Changes measured, kept or dropped"), and keeps the last few
 * Broadcast objects reachable. Spark's ContextCleaner removes a broadcast's blocks again once its
 * object is garbage; if that happens while the asynchronous destroy is still removing them, the
 * two race and Spark logs "Error cleaning broadcast" (seen every few hundred steps in local mode
 * when the object was dropped at once).
 */
public final class Broadcasts {
  private final Broadcast<?>[] recentlyDestroyed = new Broadcast<?>[8];
  private long destroyed;

  public void destroy(Broadcast<?> bc) {
    bc.destroy();
    recentlyDestroyed[(int) (destroyed++ % recentlyDestroyed.length)] = bc;
  }
}
