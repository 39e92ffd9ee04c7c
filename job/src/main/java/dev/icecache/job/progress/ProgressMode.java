package dev.icecache.job.progress;

/** How long-running commands show progress ({@code --progress}). */
public enum ProgressMode {
    /** A bar when stderr is a terminal ({@link System#console()} exists), log lines otherwise. */
    AUTO,
    /** A bar redrawn in place on stderr. */
    BAR,
    /** INFO log lines at a limited rate. */
    LOG,
    /** Nothing. */
    OFF;

    /** True when this mode draws a bar in this process. */
    public boolean drawsBar() {
        return this == BAR || this == AUTO && System.console() != null;
    }
}
