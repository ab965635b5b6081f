package io.headgate.engine.diffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An image [C, H, W] of floats as PNG bytes: 1 channel as grayscale, 3 as RGB; values mapped linearly
 * from [min, max] to 0–255 (rounded, clamped), each pixel repeated {@code scale} × {@code scale} times.
 */
public final class ImagePng {

    /** The largest side an encoded image may have, in pixels after scaling. */
    public static final int MAX_SIDE = 4096;

    private ImagePng() {
    }

    public static byte[] encode(float[] values, int offset, int channels, int height, int width, float min, float max, int scale) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, not " + channels);
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("height and width must be positive: " + height + "x" + width);
        if (!(max > min)) throw new IllegalArgumentException("max (" + max + ") must exceed min (" + min + ")");
        if (scale < 1 || (long) height * scale > MAX_SIDE || (long) width * scale > MAX_SIDE) {
            throw new IllegalArgumentException("scale " + scale + " must be >= 1 and keep both sides within " + MAX_SIDE + " pixels");
        }
        int plane = height * width;
        if (offset < 0 || values.length < offset + channels * plane) {
            throw new IllegalArgumentException("values hold " + (values.length - offset) + " floats after offset " + offset + "; need " + channels * plane);
        }
        BufferedImage image = new BufferedImage(width * scale, height * scale,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster raster = image.getRaster();
        int[] pixel = new int[channels];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < channels; c++) {
                    int i = offset + c * plane + y * width + x;
                    float v = values[i];
                    if (Float.isNaN(v)) throw new IllegalArgumentException("values[" + i + "] is NaN");
                    pixel[c] = (int) Math.round(Math.clamp((v - min) / ((double) max - min), 0.0, 1.0) * 255);
                }
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) raster.setPixel(x * scale + dx, y * scale + dy, pixel);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) throw new IllegalStateException("no PNG writer in this JDK");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
