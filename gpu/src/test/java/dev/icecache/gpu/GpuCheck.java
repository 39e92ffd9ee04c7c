package dev.icecache.gpu;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;
import static org.junit.platform.launcher.TagFilter.includeTags;

import java.util.HashMap;
import java.util.Map;

import dev.icecache.gpu.model.DecodeSpeedFigure;
import dev.icecache.gpu.pool.PageMoveFigures;
import dev.icecache.gpu.resident.ResidentStepFigures;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The runner of {@code gpu/check.sh}: probes the device, then runs every JUnit test tagged
 * {@code gpu} and prints one line per check: {@code CHECK <name>: PASS|FAIL|SKIP <figures or reason>}, then
 * one line per measurement for BENCHMARKS.md: {@code FIGURE <name>: <figures>}.
 * Exit status 0 when all passed, 1 when one failed, 2 when there is no usable GPU.
 *
 * <p>Tiers: the quick tier (default) runs every check and the figures up to 64k positions; {@code --long}
 * adds the figures at 128k (the crossover of IceCache against Full on the device).
 */
public final class GpuCheck {

    /** The operators module's check of DocumentSession on the GPU (in the bundle; absent from gpu's own tests). */
    static final String DOCUMENT_SESSION_CHECK = "dev.icecache.operators.decode.GpuDocumentSessionTest";

    private GpuCheck() {
    }

    /** Runs the checks; {@code --list} only lists them (works without a GPU: verifies the bundle); {@code --long} adds the long tier. */
    public static void main(String[] args) {
        boolean longTier = java.util.Arrays.asList(args).contains("--long");
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("dev.icecache.gpu")).filters(includeTags("gpu"));
        if (GpuCheck.class.getClassLoader().getResource(DOCUMENT_SESSION_CHECK.replace('.', '/') + ".class") != null) {
            builder.selectors(selectClass(DOCUMENT_SESSION_CHECK));   // the decoder's path (operators, no Flink class)
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        if (args.length > 0 && args[0].equals("--list")) {
            TestPlan plan = launcher.discover(request);
            for (TestIdentifier root : plan.getRoots()) {
                for (TestIdentifier id : plan.getDescendants(root)) {
                    if (id.isTest()) {
                        System.out.println("CHECK " + id.getDisplayName() + " (" + id.getLegacyReportingName() + ")");
                    }
                }
            }
            FIGURES.keySet().forEach(name -> System.out.println("FIGURE " + name));
            LONG_FIGURES.keySet().forEach(name -> System.out.println("FIGURE " + name + " (--long)"));
            return;
        }
        int index = Integer.getInteger("icecache.gpu.device", 0);
        GpuStatus status = GpuProbe.probe(index);
        if (!status.available()) {
            System.out.println("GPU check: no GPU: " + status.reason());
            System.exit(2);
        }
        System.out.println("GPU check: device " + index + " '" + status.deviceName() + "' compute "
                + status.computeCapability() + ", " + (status.totalMemoryBytes() >> 20) + " MiB, " + status.reason());
        Lines lines = new Lines();
        launcher.execute(request, lines);
        int figuresFailed = printFigures(FIGURES, index);
        if (longTier) {
            figuresFailed += printFigures(LONG_FIGURES, index);
        }
        System.out.println("GPU check: " + lines.passed + " passed, " + lines.failed + " failed, " + lines.skipped
                + " skipped" + (figuresFailed == 0 ? "" : "; " + figuresFailed + " figure(s) failed"));
        System.exit(lines.failed + figuresFailed > 0 ? 1 : 0);
    }

    /** A measurement for BENCHMARKS.md: not a check (it asserts nothing), printed after the checks. */
    private interface Figure {
        String measure(int device) throws Exception;
    }

    /** The figures in the order printed: {@code FIGURE <name>: <line>}. */
    private static final Map<String, Figure> FIGURES = figures();

    private static Map<String, Figure> figures() {
        Map<String, Figure> f = new java.util.LinkedHashMap<>();
        f.put("decode tokens/s CPU vs GPU", device -> {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("icecache-gpu-figure");
            try {
                return DecodeSpeedFigure.decodeTokensPerSecondCpuVsGpu(device, dir);
            } finally {
                try (var files = java.nio.file.Files.list(dir)) {
                    for (java.nio.file.Path p : files.toList()) {
                        java.nio.file.Files.delete(p);
                    }
                }
                java.nio.file.Files.delete(dir);
            }
        });
        f.put("page-move bandwidth", PageMoveFigures::hostToDeviceBandwidth);
        f.put("per-token attention latency", PageMoveFigures::perTokenAttentionLatency);
        f.put("resident decode step 16k and 64k", device -> ResidentStepFigures.decodeStep(device, 16_384, 65_536));
        return f;
    }

    /** The long tier's figures ({@code --long}). */
    private static final Map<String, Figure> LONG_FIGURES = Map.of("resident decode step 128k",
            device -> ResidentStepFigures.decodeStep(device, 131_072));

    /** Prints every figure; returns how many could not be measured. */
    private static int printFigures(Map<String, Figure> figures, int device) {
        int failed = 0;
        for (var e : figures.entrySet()) {
            try {
                System.out.println("FIGURE " + e.getKey() + ": " + e.getValue().measure(device));
            } catch (Exception | AssertionError ex) {
                failed++;
                System.out.println("FIGURE " + e.getKey() + ": FAIL " + ex.getClass().getSimpleName() + ": "
                        + ex.getMessage());
            }
        }
        return failed;
    }

    /** Collects each test's published "summary" and prints one line when it finishes. */
    private static final class Lines implements TestExecutionListener {
        private final Map<String, String> summaries = new HashMap<>();
        int passed;
        int failed;
        int skipped;

        @Override
        public void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {
            entry.getKeyValuePairs().forEach((k, v) -> summaries.merge(id.getUniqueId(), v, (a, b) -> a + "; " + b));
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                skipped++;
                System.out.println("CHECK " + id.getDisplayName() + ": SKIP " + reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest()) {
                return;
            }
            String summary = summaries.getOrDefault(id.getUniqueId(), "");
            switch (result.getStatus()) {
                case SUCCESSFUL -> {
                    passed++;
                    System.out.println("CHECK " + id.getDisplayName() + ": PASS " + summary);
                }
                case ABORTED -> {
                    skipped++;
                    System.out.println("CHECK " + id.getDisplayName() + ": SKIP "
                            + result.getThrowable().map(Throwable::getMessage).orElse(""));
                }
                case FAILED -> {
                    failed++;
                    System.out.println("CHECK " + id.getDisplayName() + ": FAIL "
                            + result.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("")
                            + (summary.isEmpty() ? "" : " [" + summary + "]"));
                }
            }
        }
    }
}
