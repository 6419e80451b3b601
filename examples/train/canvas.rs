//! A small RGB raster with lines, discs, rectangles and 8×8 bitmap text, saved as PNG.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use font8x8::{UnicodeFonts, BASIC_FONTS};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// White.
pub const WHITE: Rgb = [255, 255, 255];
/// Black.
pub const BLACK: Rgb = [0, 0, 0];
/// Light grey, for grid lines.
pub const GREY: Rgb = [220, 220, 220];

/// An RGB image, row-major, origin at the top left.
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    /// Creates a canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        let pixels = background
            .iter()
            .copied()
            .cycle()
            .take(width * height * 3)
            .collect();
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Sets one pixel; coordinates outside the canvas are ignored.
    pub fn put(&mut self, x: i64, y: i64, colour: Rgb) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let start = (y as usize * self.width + x as usize) * 3;
        self.pixels[start..start + 3].copy_from_slice(&colour);
    }

    /// Fills the rectangle with top-left corner (x, y).
    pub fn fill_rect(&mut self, x: i64, y: i64, width: i64, height: i64, colour: Rgb) {
        for row in y..y + height {
            for column in x..x + width {
                self.put(column, row, colour);
            }
        }
    }

    /// Draws a filled disc.
    pub fn disc(&mut self, cx: f64, cy: f64, radius: f64, colour: Rgb) {
        let reach = radius.ceil() as i64;
        let (x0, y0) = (cx.round() as i64, cy.round() as i64);
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (px, py) = ((x0 + dx) as f64, (y0 + dy) as f64);
                if (px - cx).powi(2) + (py - cy).powi(2) <= radius * radius {
                    self.put(x0 + dx, y0 + dy, colour);
                }
            }
        }
    }

    /// Draws a circle outline of about one pixel.
    pub fn circle(&mut self, cx: f64, cy: f64, radius: f64, colour: Rgb) {
        let steps = (radius * 8.0).max(16.0) as usize;
        for step in 0..steps {
            let angle = step as f64 / steps as f64 * std::f64::consts::TAU;
            let x = cx + radius * angle.cos();
            let y = cy + radius * angle.sin();
            self.put(x.round() as i64, y.round() as i64, colour);
        }
    }

    /// Draws a straight line `thickness` pixels wide by stepping along its longer axis.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), thickness: i64, colour: Rgb) {
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let steps = dx.abs().max(dy.abs()).ceil().max(1.0) as usize;
        let offset = thickness / 2;
        for step in 0..=steps {
            let t = step as f64 / steps as f64;
            let x = (from.0 + t * dx).round() as i64;
            let y = (from.1 + t * dy).round() as i64;
            self.fill_rect(x - offset, y - offset, thickness, thickness, colour);
        }
    }

    /// Writes text with its top-left corner at (x, y), each glyph 8·scale pixels square.
    /// Characters without a glyph in the basic Latin font are drawn as '?'.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, colour: Rgb) {
        for (index, character) in text.chars().enumerate() {
            let glyph = BASIC_FONTS
                .get(character)
                .or_else(|| BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            let left = x + index as i64 * 8 * scale;
            for (row, bits) in glyph.iter().enumerate() {
                for column in 0..8 {
                    // Bit 0 of each row byte is the leftmost pixel.
                    if bits >> column & 1 == 1 {
                        let px = left + column * scale;
                        let py = y + row as i64 * scale;
                        self.fill_rect(px, py, scale, scale, colour);
                    }
                }
            }
        }
    }

    /// Returns the width in pixels of `text` drawn at `scale`.
    pub fn text_width(text: &str, scale: i64) -> i64 {
        text.chars().count() as i64 * 8 * scale
    }

    /// Saves the canvas as an 8-bit RGB PNG.
    ///
    /// # Errors
    /// When the file cannot be created or the encoder fails.
    pub fn save(&self, path: &Path) -> Result<(), Box<dyn Error>> {
        let file = File::create(path)
            .map_err(|error| format!("failed to create {}: {error}", path.display()))?;
        let mut encoder =
            png::Encoder::new(BufWriter::new(file), self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(())
    }
}
