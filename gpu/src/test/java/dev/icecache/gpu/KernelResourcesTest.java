package dev.icecache.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.icecache.gpu.cuda.Kernel;

/**
 * The committed PTX matches the .cu sources: each .cu has a PTX resource of the same base name
 * for compute_80 at PTX ISA 8.0 (what {@link GpuProbe} requires of the driver and device), and every kernel entry of a source is in its PTX and in {@link Kernel}.
 */
class KernelResourcesTest {

    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

    @Test
    void shouldShipPtxForEveryKernelEntry() throws IOException {
        for (Kernel k : Kernel.values()) {
            String ptx = resource(k.resource());
            assertTrue(ptx.contains("\n.target sm_" + GpuProbe.MIN_COMPUTE_MAJOR + "0\n"), k.resource()
                    + " must target compute_" + GpuProbe.MIN_COMPUTE_MAJOR + "0, the probe's minimum");
            assertTrue(ptx.contains("\n.version " + GpuProbe.PTX_ISA + "\n"), k.resource() + " must be PTX ISA "
                    + GpuProbe.PTX_ISA + " (drivers r525+); run src/main/cuda/build-ptx.sh");
            assertTrue(ptx.contains(".visible .entry " + k.entry() + "("), k.resource() + " lacks entry " + k.entry()
                    + "; run src/main/cuda/build-ptx.sh");
        }
    }

    @Test
    void shouldHaveAKernelConstantForEveryEntryOfTheSources() throws IOException {
        List<String> entries = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/cuda"))) {
            for (Path cu : files.filter(p -> p.toString().endsWith(".cu")).sorted().toList()) {
                String base = cu.getFileName().toString().replace(".cu", "");
                String ptx = resource(Kernel.RESOURCE_DIR + base + ".ptx");
                Matcher m = ENTRY.matcher(Files.readString(cu));
                while (m.find()) {
                    entries.add(m.group(1));
                    assertTrue(ptx.contains(".visible .entry " + m.group(1) + "("), base + ".ptx is stale: no "
                            + m.group(1) + "; run src/main/cuda/build-ptx.sh");
                }
            }
        }
        assertEquals(Kernel.values().length, entries.size(), "entries in sources: " + entries);
        for (Kernel k : Kernel.values()) {
            assertTrue(entries.contains(k.entry()), k + " has no source");
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = KernelResourcesTest.class.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, "missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
