package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The product reads Spark ML vector columns without spark-mllib (which brings Breeze): neither
 * is in the application jar, its library jars (target/lib, shipped with --jars) or the packaged
 * Spark runtime (target/spark-home/jars). spark-mllib is on the test classpath only, where the
 * tests build real vector columns with VectorAssembler.
 */
class RuntimeJarsIT {
  @Test
  void noMllibOrBreezeClassShipsWithTheProduct() throws IOException {
    Path target = TestData.projectDir().resolve("target");
    List<Path> jars = new ArrayList<>(List.of(target.resolve("sparkprop.jar")));
    for (String dir : List.of("lib", "spark-home/jars")) {
      try (var l = Files.list(target.resolve(dir))) {
        l.filter(p -> p.toString().endsWith(".jar")).forEach(jars::add);
      }
    }
    assertTrue(jars.size() > 50, "the packaged runtime is there: " + jars.size() + " jars");
    List<String> found = new ArrayList<>();
    for (Path jar : jars) {
      String name = jar.getFileName().toString();
      if (name.contains("mllib") || name.startsWith("breeze")) found.add(name);
      try (JarFile j = new JarFile(jar.toFile())) {
        for (Enumeration<JarEntry> e = j.entries(); e.hasMoreElements(); ) {
          String n = e.nextElement().getName();
          if (n.startsWith("org/apache/spark/ml/") || n.startsWith("org/apache/spark/mllib/") || n.startsWith("breeze/")) {
            found.add(name + "!" + n);
            break;
          }
        }
      }
    }
    assertTrue(found.isEmpty(), "spark-mllib or Breeze in the product: " + found);
  }
}
