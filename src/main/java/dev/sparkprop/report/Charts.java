package dev.sparkprop.report;

import dev.sparkprop.run.RunDirectory;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG charts of training runs, benches and scaling measurements, drawn headless with JFreeChart.
 * A chart goes to a {@link Png}: a local file ({@link #file}, written to a temporary file next to
 * its target and moved into place, so a reader never sees half a picture) or any other sink,
 * such as a run directory on HDFS.
 */
public final class Charts {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 540;
  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
      new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
      new Color(0xbcbd22), new Color(0x17becf)};

  private Charts() {}

  static {
    System.setProperty("java.awt.headless", "true");
  }

  /** Where a chart's PNG bytes go. */
  @FunctionalInterface
  public interface Png {
    void write(byte[] png) throws IOException;
  }

  /** A local file, replaced atomically. */
  public static Png file(Path png) {
    return bytes -> dev.sparkprop.run.RunDirectory.writeLocal(png, bytes);
  }

  /** One line series: a name, its x and its y values (same length). */
  public record Series(String name, double[] x, double[] y, boolean dashed) {
    public Series(String name, double[] x, double[] y) {
      this(name, x, y, false);
    }
  }

  /**
   * A line chart of one or more series.
   *
   * @param logY a logarithmic y axis (losses); non-positive values are left out
   */
  public static void lines(Png png, String title, String xLabel, String yLabel, List<Series> series, boolean logY)
      throws IOException {
    lines(png, title, xLabel, yLabel, series, logY, false);
  }

  /**
   * As above; {@code logX}: a base-2 logarithmic x axis (executor counts 1 .. 512), with the
   * tick labels as plain numbers.
   */
  public static void lines(Png png, String title, String xLabel, String yLabel, List<Series> series, boolean logY,
      boolean logX) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Series s : series) {
      XYSeries xy = new XYSeries(s.name(), false, true);
      for (int i = 0; i < s.x().length; i++) {
        if (!logY || s.y()[i] > 0) xy.add(s.x()[i], s.y()[i]);
      }
      data.addSeries(xy);
    }
    org.jfree.chart.axis.ValueAxis x;
    if (logX) {
      org.jfree.chart.axis.LogAxis lx = new org.jfree.chart.axis.LogAxis(xLabel);
      lx.setBase(2);
      lx.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
      lx.setNumberFormatOverride(new java.text.DecimalFormat("0"));
      x = lx;
    } else {
      NumberAxis nx = new NumberAxis(xLabel);
      nx.setAutoRangeIncludesZero(false);
      if (integerAxis(series)) nx.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
      x = nx;
    }
    org.jfree.chart.axis.ValueAxis y;
    if (logY) {
      org.jfree.chart.axis.LogAxis log = new org.jfree.chart.axis.LogAxis(yLabel);
      double top = 0;
      for (Series s : series) for (double v : s.y()) if (Double.isFinite(v)) top = Math.max(top, v);
      // losses (below 100) keep three decimals; step times and samples/s need no fraction
      log.setNumberFormatOverride(new java.text.DecimalFormat(top >= 100 ? "#,##0" : "0.###"));
      y = log;
    } else {
      NumberAxis ny = new NumberAxis(yLabel);
      ny.setAutoRangeIncludesZero(false);
      y = ny;
    }
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    int solid = -1; // colours go to the solid series in turn
    for (int i = 0; i < series.size(); i++) {
      boolean fewPoints = series.get(i).x().length <= 30;
      // a dashed series (an ideal, a model) takes the colour of the solid series before it
      if (!series.get(i).dashed() || solid < 0) solid++;
      Color c = PALETTE[solid % PALETTE.length];
      // A noisy first series (raw batch losses) goes pale behind the smoother ones drawn over it.
      if (i == 0 && series.size() > 1 && !fewPoints) c = new Color(c.getRed(), c.getGreen(), c.getBlue(), 90);
      r.setSeriesPaint(i, c);
      r.setSeriesShapesVisible(i, fewPoints);
      r.setSeriesStroke(i, series.get(i).dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f)
          : new BasicStroke(fewPoints || i > 0 ? 2f : 1f));
    }
    XYPlot plot = new XYPlot(data, x, y, r);
    style(plot);
    write(png, new JFreeChart(title, titleFont(), plot, series.size() > 1));
  }

  /**
   * Two panels over the epochs: training and test loss (top), test accuracy (bottom). NaN values
   * (epochs without evaluation) are left out.
   */
  public static void epochs(Png png, String title, double[] epoch, double[] trainLoss, double[] testLoss,
      double[] testAccuracy) throws IOException {
    XYSeriesCollection losses = new XYSeriesCollection();
    losses.addSeries(series("train loss (mean over the epoch)", epoch, trainLoss));
    losses.addSeries(series("test loss (end of epoch)", epoch, testLoss));
    XYSeriesCollection acc = new XYSeriesCollection();
    acc.addSeries(series("test accuracy", epoch, testAccuracy));
    NumberAxis lossAxis = new NumberAxis("cross-entropy");
    NumberAxis accAxis = new NumberAxis("test accuracy");
    accAxis.setAutoRangeIncludesZero(false);
    accAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.000"));
    XYLineAndShapeRenderer lr = new XYLineAndShapeRenderer(true, true);
    lr.setSeriesPaint(0, PALETTE[0]);
    lr.setSeriesPaint(1, PALETTE[1]);
    XYLineAndShapeRenderer ar = new XYLineAndShapeRenderer(true, true);
    ar.setSeriesPaint(0, PALETTE[2]);
    for (XYLineAndShapeRenderer r : new XYLineAndShapeRenderer[] {lr, ar}) {
      for (int i = 0; i < 2; i++) r.setSeriesStroke(i, new BasicStroke(2f));
    }
    XYPlot top = new XYPlot(losses, null, lossAxis, lr);
    XYPlot bottom = new XYPlot(acc, null, accAxis, ar);
    style(top);
    style(bottom);
    NumberAxis x = new NumberAxis("epoch");
    x.setTickUnit(new NumberTickUnit(Math.max(1, Math.ceil(epoch.length / 20.0))));
    org.jfree.chart.plot.CombinedDomainXYPlot plot = new org.jfree.chart.plot.CombinedDomainXYPlot(x);
    plot.add(top, 3);
    plot.add(bottom, 2);
    plot.setGap(12);
    write(png, new JFreeChart(title, titleFont(), plot, true), WIDTH, 640);
  }

  /** Few whole-number x values (worker counts): whole-number ticks. */
  private static boolean integerAxis(List<Series> series) {
    for (Series s : series) {
      if (s.x().length > 64) return false;
      for (double v : s.x()) if (v != Math.rint(v)) return false;
    }
    return true;
  }

  private static XYSeries series(String name, double[] x, double[] y) {
    XYSeries s = new XYSeries(name, false, true);
    for (int i = 0; i < x.length; i++) {
      if (!Double.isNaN(y[i])) s.add(x[i], y[i]);
    }
    return s;
  }

  /**
   * Stacked bars: one bar per category, one segment per part (values in the category order);
   * segment values are printed inside the bars.
   */
  public static void stackedBars(Png png, String title, String yLabel, List<String> categories,
      Map<String, double[]> parts) throws IOException {
    stackedBars(png, title, yLabel, categories, parts, Map.of());
  }

  /** As above, with labelled horizontal lines (e.g. the floor of an empty Spark job). */
  public static void stackedBars(Png png, String title, String yLabel, List<String> categories,
      Map<String, double[]> parts, Map<String, Double> markers) throws IOException {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Map.Entry<String, double[]> p : parts.entrySet()) {
      for (int c = 0; c < categories.size(); c++) data.addValue(p.getValue()[c], p.getKey(), categories.get(c));
    }
    StackedBarRenderer r = new StackedBarRenderer();
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    r.setMaximumBarWidth(0.18);
    r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new java.text.DecimalFormat("0.0")));
    r.setDefaultItemLabelsVisible(true);
    r.setDefaultItemLabelPaint(Color.WHITE);
    for (int i = 0; i < parts.size(); i++) r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
    CategoryAxis categoryAxis = new CategoryAxis();
    categoryAxis.setMaximumCategoryLabelLines(3);
    CategoryPlot plot = new CategoryPlot(data, categoryAxis, new NumberAxis(yLabel), r);
    plot.setOrientation(PlotOrientation.VERTICAL);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    for (Map.Entry<String, Double> m : markers.entrySet()) {
      org.jfree.chart.plot.ValueMarker marker = new org.jfree.chart.plot.ValueMarker(m.getValue(), Color.DARK_GRAY,
          new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
      marker.setLabel(m.getKey());
      marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      marker.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
      marker.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
      plot.addRangeMarker(marker);
    }
    write(png, new JFreeChart(title, titleFont(), plot, true));
  }

  /**
   * A heat map of a count matrix (rows: true class, columns: predicted class) with each cell's
   * count written in it; colour is the share of the row, so small classes show as clearly as big ones.
   */
  public static void heatMap(Png png, String title, String rowLabel, String colLabel, long[][] counts)
      throws IOException {
    int n = counts.length;
    int m = counts[0].length;
    double[] xs = new double[n * m];
    double[] ys = new double[n * m];
    double[] zs = new double[n * m];
    for (int i = 0; i < n; i++) {
      long rowSum = 0;
      for (long v : counts[i]) rowSum += v;
      for (int j = 0; j < m; j++) {
        int k = i * m + j;
        xs[k] = j;
        ys[k] = i;
        zs[k] = rowSum == 0 ? 0 : counts[i][j] / (double) rowSum;
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("share of the row", new double[][] {xs, ys, zs});
    LookupPaintScale scale = new LookupPaintScale(0, 1.0001, Color.WHITE);
    // White for 0, pale for the few-percent confusions, deep blue for the diagonal.
    double[] stops = {0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95};
    for (int s = 0; s < stops.length; s++) {
      float t = s / (float) (stops.length - 1);
      scale.add(stops[s], s == 0 ? Color.WHITE : new Color(1f - 0.85f * t, 1f - 0.6f * t, 1f - 0.2f * t));
    }
    XYBlockRenderer r = new XYBlockRenderer();
    r.setPaintScale(scale);
    NumberAxis x = new NumberAxis(colLabel);
    NumberAxis y = new NumberAxis(rowLabel);
    for (NumberAxis a : new NumberAxis[] {x, y}) {
      a.setTickUnit(new NumberTickUnit(1));
      a.setLowerMargin(0);
      a.setUpperMargin(0);
    }
    x.setRange(-0.5, m - 0.5);
    y.setRange(-0.5, n - 0.5);
    y.setInverted(true);
    XYPlot plot = new XYPlot(data, x, y, r);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    Font cell = new Font(Font.SANS_SERIF, Font.PLAIN, n <= 12 ? 12 : 9);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        XYTextAnnotation a = new XYTextAnnotation(String.valueOf(counts[i][j]), j, i);
        a.setFont(cell);
        a.setPaint(zs[i * m + j] > 0.5 ? Color.WHITE : Color.BLACK);
        plot.addAnnotation(a);
      }
    }
    JFreeChart chart = new JFreeChart(title, titleFont(), plot, false);
    NumberAxis legendAxis = new NumberAxis("share of the true class's rows");
    legendAxis.setRange(0, 1);
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    legend.setMargin(8, 8, 8, 8);
    chart.addSubtitle(legend);
    write(png, chart, 760, 680);
  }

  private static void style(XYPlot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
  }

  private static Font titleFont() {
    return new Font(Font.SANS_SERIF, Font.BOLD, 16);
  }

  private static void write(Png png, JFreeChart chart) throws IOException {
    write(png, chart, WIDTH, HEIGHT);
  }

  private static void write(Png png, JFreeChart chart, int w, int h) throws IOException {
    chart.setBackgroundPaint(Color.WHITE);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    ChartUtils.writeChartAsPNG(bytes, chart, w, h);
    png.write(bytes.toByteArray());
  }
}
