package dev.sparkprop.io;

/** The library version, from the jar's manifest (set by Maven); "dev" when run from classes. */
public final class Version {
  private Version() {}

  public static String get() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
