package io.headgate.engine.diffusion;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagePngTest {

    @Test
    void grayscaleMapsTheRangeToBytesAndScalesByRepeatingPixels() throws Exception {
        // 2 x 3 image in [-1, 1]: -1 -> 0, 1 -> 255, 0 -> 127.5 rounds to 128, out of range clamps
        float[] values = {7f, -1f, 0f, 1f, -3f, 0.5f, 2f};
        byte[] png = ImagePng.encode(values, 1, 1, 2, 3, -1f, 1f, 3);
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(9, image.getWidth());
        assertEquals(6, image.getHeight());
        assertEquals(1, image.getRaster().getNumBands());
        int[][] expected = {{0, 128, 255}, {0, 191, 255}};
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 9; x++) {
                assertEquals(expected[y / 3][x / 3], image.getRaster().getSample(x, y, 0), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void rgbReadsPlanarChannels() throws Exception {
        float[] values = {0f, 1f, 0.5f}; // one pixel, [C=3, 1, 1] in [0, 1]
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(ImagePng.encode(values, 0, 3, 1, 1, 0f, 1f, 1)));
        assertEquals(0, image.getRaster().getSample(0, 0, 0));
        assertEquals(255, image.getRaster().getSample(0, 0, 1));
        assertEquals(128, image.getRaster().getSample(0, 0, 2));
    }

    @Test
    void badInputsAreRejectedNamingWhatIsWrong() {
        float[] values = new float[64];
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImagePng.encode(values, 0, 2, 8, 8, -1, 1, 1)).getMessage().contains("channels"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImagePng.encode(values, 0, 1, 8, 8, -1, 1, 0)).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImagePng.encode(values, 0, 1, 8, 8, -1, 1, 1000)).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImagePng.encode(values, 1, 1, 8, 8, -1, 1, 1)).getMessage().contains("values"));
        values[5] = Float.NaN;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImagePng.encode(values, 0, 1, 8, 8, -1, 1, 1)).getMessage().contains("values[5]"));
    }
}
