package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class PathsTest {
    @Test
    void plainPathsAreReturnedAsIs() {
        String t = "/api/users?id=1&x=../y";
        assertSame(t, Paths.normalize(t));
        assertSame("/", Paths.normalize("/"));
        assertSame("/a.b/c.", Paths.normalize("/a.b/c."));
    }

    @Test
    void dotSegmentsSlashesAndEscapesAreResolvedAsNginxDoes() {
        assertEquals("/admin/x", Paths.normalize("/public/../admin/x"));
        assertEquals("/admin/x", Paths.normalize("//admin//x"));
        assertEquals("/admin/x", Paths.normalize("/%61dmin/x?q"));
        assertEquals("/admin/", Paths.normalize("/admin/./"));
        assertEquals("/admin/", Paths.normalize("/admin/x/.."));
        assertEquals("/a/", Paths.normalize("/a/."));
        assertEquals("/admin/x", Paths.normalize("/public/%2e%2e/admin/x"));
    }

    @Test
    void invalidPathsAreNull() {
        assertNull(Paths.normalize("/../etc/passwd"));
        assertNull(Paths.normalize("/a/%zz"));
        assertNull(Paths.normalize("/a/%0a"));
        assertNull(Paths.normalize("/a/%2"));
    }
}
