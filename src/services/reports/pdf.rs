//! A report as an A4 PDF, drawn in-process with `krilla` and the DejaVu Sans fonts compiled
//! into the binary (subset into each file). The text is real text, so it can be searched,
//! copied and read aloud (and `pdftotext` reads the same figures the page shows).
//!
//! Layout happens first, into pages of simple drawing steps, so a block that does not fit
//! starts a new page; then each page is drawn.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};

use super::content::{DailyChart, ReportContent};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Where the footer's line sits; content stops above it.
const BOTTOM: f32 = PAGE_H - MARGIN - 14.0;

const INK: (u8, u8, u8) = (28, 32, 38);
const MUTED: (u8, u8, u8) = (92, 99, 110);
const RULE: (u8, u8, u8) = (214, 218, 224);
const ACCENT: (u8, u8, u8) = (18, 94, 140);
const UP: (u8, u8, u8) = (22, 112, 60);
const DOWN: (u8, u8, u8) = (170, 40, 40);
const PARTIAL: (u8, u8, u8) = (238, 240, 243);

/// Pictures of the best posts, by post id (small JPEGs kept by the sync).
pub type Pictures = std::collections::HashMap<i64, Vec<u8>>;

#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be made: {0}")]
pub struct PdfError(String);

/// The report as PDF bytes.
pub fn render(content: &ReportContent, pictures: &Pictures) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load()?;
    let mut layout = Layout::new(&fonts);
    layout.report(content, pictures);
    let pages = layout.finish(content);
    draw(&fonts, &pages, content)
}

struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: ttf_parser::Face<'static>,
    bold_face: ttf_parser::Face<'static>,
}

impl Fonts {
    fn load() -> Result<Fonts, PdfError> {
        let missing = || PdfError("the embedded font cannot be read".to_owned());
        Ok(Fonts {
            regular: Font::new(REGULAR.into(), 0).ok_or_else(missing)?,
            bold: Font::new(BOLD.into(), 0).ok_or_else(missing)?,
            regular_face: ttf_parser::Face::parse(REGULAR, 0).map_err(|_| missing())?,
            bold_face: ttf_parser::Face::parse(BOLD, 0).map_err(|_| missing())?,
        })
    }

    /// `text` without the characters the font has no glyph for (emoji in captions): left in,
    /// they would print as empty boxes.
    fn drawable(&self, text: &str, bold: bool) -> String {
        let face = if bold { &self.bold_face } else { &self.regular_face };
        text.chars().filter(|c| face.glyph_index(*c).is_some() || c.is_whitespace()).collect()
    }

    /// The width of `text` at `size` points (advances only; close enough to align and wrap).
    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold_face } else { &self.regular_face };
        let units: u32 = text
            .chars()
            .map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map_or(0, u32::from))
            .sum();
        units as f32 * size / f32::from(face.units_per_em())
    }
}

/// How a piece of text is set.
#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    colour: (u8, u8, u8),
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// One drawing step on a page; y grows downwards from the page's top, text at its baseline.
enum Step {
    Text { x: f32, y: f32, size: f32, bold: bool, colour: (u8, u8, u8), text: String },
    Line { from: (f32, f32), to: (f32, f32), width: f32, colour: (u8, u8, u8), dashed: bool },
    Polyline { points: Vec<(f32, f32)>, width: f32, colour: (u8, u8, u8), dashed: bool },
    Box { x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8) },
    Picture { x: f32, y: f32, side: f32, jpeg: Vec<u8> },
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Step>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Layout { fonts, pages: vec![Vec::new()], y: MARGIN }
    }

    fn steps(&mut self) -> &mut Vec<Step> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room_for(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, style: Style, text: &str, align: Align) {
        let Style { size, bold, colour } = style;
        let x = match align {
            Align::Left => x,
            Align::Right => x - self.fonts.width(text, size, bold),
        };
        let text = self.fonts.drawable(text, bold);
        self.steps().push(Step::Text { x, y, size, bold, colour, text });
    }

    /// `text` cut with "…" to fit `width`.
    fn fitted(&self, text: &str, size: f32, bold: bool, width: f32) -> String {
        if self.fonts.width(text, size, bold) <= width {
            return text.to_owned();
        }
        let mut cut: String = text.to_owned();
        while !cut.is_empty() && self.fonts.width(&format!("{cut}…"), size, bold) > width {
            cut.pop();
        }
        format!("{}…", cut.trim_end())
    }

    /// Lines of `text` wrapped at spaces to `width`.
    fn wrapped(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if !line.is_empty() && self.fonts.width(&candidate, size, false) > width {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn paragraph(&mut self, text: &str, size: f32, colour: (u8, u8, u8)) {
        for line in self.wrapped(text, size, CONTENT_W) {
            self.room_for(size * 1.4);
            self.y += size * 1.4;
            let y = self.y;
            self.text(MARGIN, y, Style { size, bold: false, colour }, &line, Align::Left);
        }
    }

    fn heading(&mut self, text: &str) {
        self.room_for(60.0);
        self.y += 26.0;
        let y = self.y;
        self.text(MARGIN, y, Style { size: 13.0, bold: true, colour: INK }, text, Align::Left);
        self.y += 6.0;
        let y = self.y;
        self.steps().push(Step::Line {
            from: (MARGIN, y),
            to: (PAGE_W - MARGIN, y),
            width: 0.6,
            colour: RULE,
            dashed: false,
        });
    }

    fn report(&mut self, c: &ReportContent, pictures: &Pictures) {
        self.y += 8.0;
        let y = self.y;
        self.text(MARGIN, y, Style { size: 9.0, bold: true, colour: ACCENT }, "TIDEMARK", Align::Left);
        self.y += 24.0;
        let y = self.y;
        let title = self.fitted(&c.title, 19.0, true, CONTENT_W);
        self.text(MARGIN, y, Style { size: 19.0, bold: true, colour: INK }, &title, Align::Left);
        self.paragraph(&format!("{} · compared with {}", c.period, c.compared_with), 10.5, INK);
        self.paragraph(&format!("Made {} · times in {}", c.made_at, c.time_zone), 8.5, MUTED);
        self.cards(c);
        for note in &c.notes {
            self.paragraph(note, 8.5, MUTED);
        }
        for chart in &c.charts {
            self.chart(chart);
        }
        if !c.accounts.is_empty() {
            self.heading("Accounts");
            let rows = c
                .accounts
                .iter()
                .map(|a| {
                    vec![
                        format!("@{}", a.username),
                        a.followers.clone(),
                        a.followers_change.clone(),
                        a.reach.clone(),
                        a.reach_change.clone(),
                        a.posts.clone(),
                        a.rate.clone(),
                    ]
                })
                .collect();
            self.table(
                &["Account", "Followers", "Change", "Reached", "Change", "Posts", "Engagement"],
                &[0.26, 0.13, 0.1, 0.14, 0.1, 0.09, 0.18],
                rows,
            );
        }
        self.heading("Best posts of the period");
        if c.top.is_empty() {
            self.paragraph("No post of this period has an impact score yet.", 9.5, MUTED);
        }
        for post in &c.top {
            self.post(post, pictures.get(&post.post_id));
        }
        self.heading("Formats");
        if c.formats.is_empty() {
            self.paragraph("Nothing was published in this period.", 9.5, MUTED);
        } else {
            let rows = c
                .formats
                .iter()
                .map(|f| vec![f.format.clone(), f.posts.to_string(), f.median_rate.clone(), f.median_reach.clone()])
                .collect();
            self.table(&["Format", "Posts", "Median engagement", "Median reach"], &[0.34, 0.18, 0.26, 0.22], rows);
        }
        self.heading("Best times to post");
        self.paragraph(&c.slots_basis, 8.5, MUTED);
        if c.slots.is_empty() {
            self.paragraph("Not enough posts yet to rank the hours.", 9.5, MUTED);
        } else {
            let rows =
                c.slots.iter().map(|s| vec![s.when.clone(), s.median_rate.clone(), s.posts.to_string()]).collect();
            self.table(&["When", "Median engagement", "Posts"], &[0.5, 0.3, 0.2], rows);
        }
        self.paragraph(&format!("Engagement: {}.", c.definition), 8.0, MUTED);
    }

    fn cards(&mut self, c: &ReportContent) {
        const COLUMNS: usize = 3;
        let gap = 10.0;
        let width = (CONTENT_W - gap * (COLUMNS - 1) as f32) / COLUMNS as f32;
        for row in c.cards.chunks(COLUMNS) {
            let contexts: Vec<Vec<String>> =
                row.iter().map(|card| self.wrapped(&card.context, 7.5, width - 16.0)).collect();
            let lines = contexts.iter().map(Vec::len).max().unwrap_or(0);
            let height = 62.0 + lines as f32 * 10.0;
            self.room_for(height + gap);
            self.y += gap;
            let top = self.y;
            for (i, card) in row.iter().enumerate() {
                let x = MARGIN + i as f32 * (width + gap);
                self.steps().push(Step::Box { x, y: top, w: width, h: height, colour: PARTIAL });
                self.text(
                    x + 8.0,
                    top + 15.0,
                    Style { size: 8.0, bold: false, colour: MUTED },
                    &card.label,
                    Align::Left,
                );
                let value = self.fitted(&card.value, 17.0, true, width - 16.0);
                self.text(x + 8.0, top + 36.0, Style { size: 17.0, bold: true, colour: INK }, &value, Align::Left);
                if !card.change.is_empty() {
                    let colour = match card.direction.as_str() {
                        "up" => UP,
                        "down" => DOWN,
                        _ => MUTED,
                    };
                    let change = format!("{} {} ({})", card.arrow(), card.change, card.direction);
                    self.text(x + 8.0, top + 50.0, Style { size: 8.5, bold: true, colour }, &change, Align::Left);
                }
                for (n, line) in contexts[i].iter().enumerate() {
                    self.text(
                        x + 8.0,
                        top + 62.0 + n as f32 * 10.0,
                        Style { size: 7.5, bold: false, colour: MUTED },
                        line,
                        Align::Left,
                    );
                }
            }
            self.y = top + height;
        }
    }

    /// A line chart: gaps stay gaps, the comparison is dashed, days still counting are shaded
    /// and labelled, and the y axis starts at zero.
    fn chart(&mut self, chart: &DailyChart) {
        let height = 120.0;
        self.room_for(height + 64.0);
        self.y += 22.0;
        let y = self.y;
        let title = self.fitted(&chart.title, 10.0, true, CONTENT_W - 120.0);
        self.text(MARGIN, y, Style { size: 10.0, bold: true, colour: INK }, &title, Align::Left);
        let unit = self.fitted(&chart.unit, 7.5, false, 110.0);
        self.text(PAGE_W - MARGIN, y, Style { size: 7.5, bold: false, colour: MUTED }, &unit, Align::Right);
        self.y += 8.0;
        let (left, top, width) = (MARGIN + 38.0, self.y, CONTENT_W - 38.0);
        let bottom = top + height;
        if !chart.has_data() {
            self.y += 14.0;
            let y = self.y;
            self.text(
                MARGIN,
                y,
                Style { size: 9.0, bold: false, colour: MUTED },
                "No data in this period.",
                Align::Left,
            );
            return;
        }
        let days = chart.days.len().max(1);
        let x_of = |i: usize| if days == 1 { left + width / 2.0 } else { left + width * i as f32 / (days - 1) as f32 };
        let max = chart.series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0_f64, |m, v| m.max(*v));
        let top_value = nice_ceiling(max);
        let y_of = |v: f64| bottom - (v / top_value) as f32 * height;
        if let Some(from) = chart.partial_from {
            let x = x_of(from) - if days > 1 { width / (days - 1) as f32 / 2.0 } else { 0.0 };
            self.steps().push(Step::Box { x, y: top, w: left + width - x, h: height, colour: PARTIAL });
            self.text(
                left + width - 2.0,
                top + 10.0,
                Style { size: 7.0, bold: false, colour: MUTED },
                "so far (still counting)",
                Align::Right,
            );
        }
        for step in 0..=4 {
            let value = top_value * f64::from(step) / 4.0;
            let y = y_of(value);
            self.steps().push(Step::Line {
                from: (left, y),
                to: (left + width, y),
                width: 0.4,
                colour: RULE,
                dashed: false,
            });
            let label = crate::services::views::format::count(Some(value.round() as i64));
            self.text(left - 4.0, y + 2.5, Style { size: 7.0, bold: false, colour: MUTED }, &label, Align::Right);
        }
        let colours = [ACCENT, MUTED, UP, DOWN];
        for (n, series) in chart.series.iter().enumerate() {
            let colour = colours[n % colours.len()];
            // Each run of measured days is its own line: a day not measured breaks it.
            let mut run: Vec<(f32, f32)> = Vec::new();
            let mut runs = Vec::new();
            for (i, value) in series.values.iter().enumerate() {
                match value {
                    Some(v) => run.push((x_of(i), y_of(*v))),
                    None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                    None => {}
                }
            }
            runs.push(run);
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                if run.len() == 1 {
                    let (x, y) = run[0];
                    self.steps().push(Step::Box { x: x - 1.5, y: y - 1.5, w: 3.0, h: 3.0, colour });
                } else {
                    let dashed = series.comparison;
                    self.steps().push(Step::Polyline { points: run, width: 1.4, colour, dashed });
                }
            }
        }
        let first = chart.days.first().map(|d| d.format("%-d %b").to_string()).unwrap_or_default();
        let last = chart.days.last().map(|d| d.format("%-d %b").to_string()).unwrap_or_default();
        self.text(left, bottom + 10.0, Style { size: 7.0, bold: false, colour: MUTED }, &first, Align::Left);
        self.text(left + width, bottom + 10.0, Style { size: 7.0, bold: false, colour: MUTED }, &last, Align::Right);
        let mut x = left;
        for (n, series) in chart.series.iter().enumerate() {
            let colour = colours[n % colours.len()];
            let y = bottom + 22.0;
            let dashed = series.comparison;
            self.steps().push(Step::Line { from: (x, y - 3.0), to: (x + 16.0, y - 3.0), width: 1.4, colour, dashed });
            self.text(x + 20.0, y, Style { size: 7.5, bold: false, colour: INK }, &series.label, Align::Left);
            x += 20.0 + self.fonts.width(&series.label, 7.5, false) + 16.0;
        }
        self.y = bottom + 26.0;
    }

    /// A table: a bold header, then rows; the first column left, the rest right-aligned.
    fn table(&mut self, header: &[&str], widths: &[f32], rows: Vec<Vec<String>>) {
        let columns: Vec<(f32, f32)> = widths
            .iter()
            .scan(MARGIN, |x, w| {
                let start = *x;
                *x += w * CONTENT_W;
                Some((start, w * CONTENT_W))
            })
            .collect();
        let line = |layout: &mut Layout<'_>, cells: &[String], bold: bool| {
            layout.room_for(16.0);
            layout.y += 15.0;
            let y = layout.y;
            for (i, cell) in cells.iter().enumerate() {
                let Some(&(x, w)) = columns.get(i) else { continue };
                let text = layout.fitted(cell, 8.5, bold, w - 6.0);
                let colour = if bold { MUTED } else { INK };
                if i == 0 {
                    layout.text(x, y, Style { size: 8.5, bold, colour }, &text, Align::Left);
                } else {
                    layout.text(x + w - 2.0, y, Style { size: 8.5, bold, colour }, &text, Align::Right);
                }
            }
            layout.y += 4.0;
            let y = layout.y;
            let colour = RULE;
            layout.steps().push(Step::Line {
                from: (MARGIN, y),
                to: (PAGE_W - MARGIN, y),
                width: 0.4,
                colour,
                dashed: false,
            });
        };
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        line(self, &header, true);
        for row in &rows {
            line(self, row, false);
        }
    }

    fn post(&mut self, post: &super::content::TopPost, picture: Option<&Vec<u8>>) {
        let side = 40.0;
        self.room_for(side + 12.0);
        self.y += 10.0;
        let top = self.y;
        match picture {
            Some(jpeg) => self.steps().push(Step::Picture { x: MARGIN, y: top, side, jpeg: jpeg.clone() }),
            None => self.steps().push(Step::Box { x: MARGIN, y: top, w: side, h: side, colour: PARTIAL }),
        }
        let x = MARGIN + side + 10.0;
        let figures_x = PAGE_W - MARGIN;
        let heading = format!("@{} · {} · {}", post.username, post.format, post.posted);
        self.text(x, top + 10.0, Style { size: 8.5, bold: true, colour: INK }, &heading, Align::Left);
        let caption = if post.caption.is_empty() { "(no caption)".to_owned() } else { post.caption.clone() };
        let caption = self.fitted(&caption, 8.5, false, figures_x - x - 150.0);
        self.text(x, top + 22.0, Style { size: 8.5, bold: false, colour: INK }, &caption, Align::Left);
        let note =
            self.fitted(&format!("impact {}: {}", post.impact, post.impact_note), 7.5, false, figures_x - x - 150.0);
        self.text(x, top + 34.0, Style { size: 7.5, bold: false, colour: MUTED }, &note, Align::Left);
        let figures = format!("reach {}", post.reach);
        self.text(figures_x, top + 10.0, Style { size: 8.5, bold: true, colour: INK }, &figures, Align::Right);
        let rate = format!("engagement {}", post.rate);
        self.text(figures_x, top + 22.0, Style { size: 8.5, bold: false, colour: INK }, &rate, Align::Right);
        let impact = format!("impact {}", post.impact);
        self.text(figures_x, top + 34.0, Style { size: 8.5, bold: false, colour: INK }, &impact, Align::Right);
        self.y = top + side;
    }

    /// The pages, each with its footer.
    fn finish(mut self, c: &ReportContent) -> Vec<Vec<Step>> {
        let total = self.pages.len();
        for (n, page) in self.pages.iter_mut().enumerate() {
            let y = PAGE_H - MARGIN;
            page.push(Step::Line {
                from: (MARGIN, y - 12.0),
                to: (PAGE_W - MARGIN, y - 12.0),
                width: 0.4,
                colour: RULE,
                dashed: false,
            });
            let left = format!("{} · {}", c.title, c.period);
            page.push(Step::Text { x: MARGIN, y, size: 7.5, bold: false, colour: MUTED, text: left });
            let right = format!("page {} of {total}", n + 1);
            let x = PAGE_W - MARGIN - self.fonts.width(&right, 7.5, false);
            page.push(Step::Text { x, y, size: 7.5, bold: false, colour: MUTED, text: right });
        }
        self.pages
    }
}

/// The axis' top: the maximum rounded up to 1, 2, 2.5 or 5 times a power of ten.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|v| *v >= max).unwrap_or(max)
}

fn draw(fonts: &Fonts, pages: &[Vec<Step>], c: &ReportContent) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document
        .set_metadata(Metadata::new().title(c.title.clone()).creator("Tidemark".to_owned()).language("en".to_owned()));
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError("bad page size".to_owned()))?;
    for steps in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for step in steps {
            match step {
                Step::Text { x, y, size, bold, colour, text } => {
                    surface.set_fill(Some(fill(*colour)));
                    let font = if *bold { fonts.bold.clone() } else { fonts.regular.clone() };
                    surface.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::Auto);
                }
                Step::Line { from, to, width, colour, dashed } => {
                    stroke_path(&mut surface, &[*from, *to], *width, *colour, *dashed);
                }
                Step::Polyline { points, width, colour, dashed } => {
                    stroke_path(&mut surface, points, *width, *colour, *dashed);
                }
                Step::Box { x, y, w, h, colour } => {
                    let mut builder = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        builder.push_rect(rect);
                    }
                    if let Some(path) = builder.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                    }
                }
                Step::Picture { x, y, side, jpeg } => {
                    // A picture that cannot be read is left out, never the report.
                    let image = Image::from_jpeg(jpeg.clone().into(), true).ok();
                    if let (Some(image), Some(size)) = (image, Size::from_wh(*side, *side)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_image(image, size);
                        surface.pop();
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError(format!("{e:?}")))
}

fn fill(colour: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke_path(
    surface: &mut krilla::surface::Surface<'_>,
    points: &[(f32, f32)],
    width: f32,
    colour: (u8, u8, u8),
    dashed: bool,
) {
    let mut builder = PathBuilder::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 { builder.move_to(*x, *y) } else { builder.line_to(*x, *y) }
    }
    let Some(path) = builder.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        width,
        dash: dashed.then(|| StrokeDash { array: vec![4.0, 3.0], offset: 0.0 }),
        ..Stroke::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_is_a_round_number_at_or_above_the_maximum() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(1234.0), 2000.0);
        assert_eq!(nice_ceiling(2400.0), 2500.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
    }

    fn sample(posts: usize) -> ReportContent {
        use super::super::content::*;
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        ReportContent {
            version: CONTENT_VERSION,
            title: "Weekly report for @north.loaf".into(),
            scope: "@north.loaf".into(),
            cadence: crate::domain::Cadence::Weekly,
            first_day: day(23),
            last_day: day(29),
            period: "23 Nov 2026 – 29 Nov 2026".into(),
            compared_with: "16 Nov 2026 – 22 Nov 2026".into(),
            time_zone: "UTC".into(),
            made_at: "2026-11-30 08:00 UTC".into(),
            definition: "interactions ÷ reach".into(),
            cards: vec![Card {
                label: "accounts reached".into(),
                value: "12,345".into(),
                change: "−4.0 %".into(),
                direction: "down".into(),
                context: "vs 12,860 in the 7 days before".into(),
            }],
            notes: vec![],
            charts: vec![DailyChart {
                title: "Reach".into(),
                unit: "accounts".into(),
                days: (23..=29).map(day).collect(),
                series: vec![DailySeries {
                    label: "this period".into(),
                    values: vec![Some(1.0), None, Some(3.0), Some(2.0), None, None, Some(5.0)],
                    comparison: false,
                }],
                partial_from: Some(6),
            }],
            accounts: vec![],
            top: (0..posts)
                .map(|n| TopPost {
                    post_id: n as i64,
                    username: "north.loaf".into(),
                    format: "Reel".into(),
                    posted: "2026-11-24 18:00".into(),
                    caption: format!("caption {n} <b>not markup</b>"),
                    reach: "1,234".into(),
                    rate: "5.00 %".into(),
                    impact: "140".into(),
                    impact_note: "against 12 earlier Reels at 24 h".into(),
                    picture: false,
                })
                .collect(),
            formats: vec![],
            slots: vec![],
            slots_basis: "Ranked from 90 days.".into(),
        }
    }

    #[test]
    fn a_report_becomes_a_pdf_that_grows_pages_as_it_needs() {
        let short = render(&sample(1), &Pictures::new()).unwrap();
        assert!(short.starts_with(b"%PDF-"));
        let fonts = Fonts::load().unwrap();
        let pages = |c: &ReportContent| {
            let mut layout = Layout::new(&fonts);
            layout.report(c, &Pictures::new());
            layout.finish(c).len()
        };
        assert_eq!(pages(&sample(1)), 1);
        assert!(pages(&sample(40)) > 1, "forty posts do not fit one page");
        assert_eq!(fonts.drawable("Rye 🌾 loaves", false), "Rye  loaves", "no empty boxes for emoji");
        let with_bad_picture = Pictures::from([(0, b"not a jpeg".to_vec())]);
        assert!(render(&sample(1), &with_bad_picture).is_ok(), "a broken picture is left out, not the report");
    }

    #[test]
    fn long_text_is_cut_to_fit_and_wrapped_at_spaces() {
        let fonts = Fonts::load().unwrap();
        let layout = Layout::new(&fonts);
        let cut = layout.fitted("a caption far too long for the little room it is given", 9.0, false, 80.0);
        assert!(cut.ends_with('…'));
        assert!(fonts.width(&cut, 9.0, false) <= 80.0);
        let lines = layout.wrapped("one two three four five six seven eight nine ten", 9.0, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), "one two three four five six seven eight nine ten");
    }
}
