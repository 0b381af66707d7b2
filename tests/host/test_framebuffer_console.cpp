// The framebuffer console's pixels (src/console/framebuffer_console.cpp): glyphs drawn from
// the font, the margins beside the grid cleared, and on screens too large for the grid the
// font drawn in squares of 2x2 pixels or more.
#include <gtest/gtest.h>
#include <rt/font.h>
#include <rt/framebuffer_console.h>
#include <vector>

namespace {

constexpr rt::PixelFormat bgrx { 4, 16, 8, 8, 8, 0, 8 };
constexpr u32 garbage = 0xABABABABu;

struct Screen {
    Screen(u32 width, u32 height) : width(width), height(height), pixels(size_t(width) * height, garbage) {}
    u32 at(u32 x, u32 y) const { return pixels[size_t(y) * width + x]; }
    u8* bytes() { return reinterpret_cast<u8*>(pixels.data()); }
    u32 width, height;
    std::vector<u32> pixels;
};

// Whether cell (column, row) shows `character` at `scale`: ink where the font has a bit, the
// background (the top-left pixel, blank in every glyph) elsewhere.
void expect_glyph(Screen const& screen, u32 column, u32 row, char character, u32 scale)
{
    const u8* glyph = rt::font8x16[character - rt::font_first_char];
    u32 left = column * rt::font_width * scale, top = row * rt::font_height * scale;
    u32 background = screen.at(left, top);
    for (u32 y = 0; y < rt::font_height * scale; ++y)
        for (u32 x = 0; x < rt::font_width * scale; ++x) {
            bool ink = glyph[y / scale] & (0x80 >> (x / scale));
            ASSERT_EQ(screen.at(left + x, top + y) != background, ink) << character << " at pixel " << x << "," << y;
        }
}

}

TEST(FramebufferConsole, DrawsGlyphsAndClearsTheMarginsBesideTheGrid)
{
    Screen screen(1004, 300); // 125x18 cells, 4 pixels right and 12 below left over
    rt::FramebufferConsole console(screen.bytes(), screen.width, screen.height, screen.width * 4, bgrx);
    EXPECT_EQ(console.scale(), 1u);
    EXPECT_EQ(console.columns(), 125u);
    EXPECT_EQ(console.rows(), 18u);
    console.clear();
    u32 background = screen.at(0, 0);
    EXPECT_NE(background, garbage);
    for (u32 y = 0; y < screen.height; ++y)
        for (u32 x = 0; x < screen.width; ++x)
            ASSERT_EQ(screen.at(x, y), background) << "pixel " << x << "," << y << " after clear()";
    console.write("Hi?");
    expect_glyph(screen, 0, 0, 'H', 1);
    expect_glyph(screen, 1, 0, 'i', 1);
    expect_glyph(screen, 2, 0, '?', 1);
}

TEST(FramebufferConsole, AccentedLettersAreTheirLetterWithTheAccent)
{
    u8 glyph[rt::font_height];
    // é: e's body as it is, the acute accent above it, nothing else.
    ASSERT_TRUE(rt::accented_glyph(0xE9, glyph));
    const u8* e = rt::font8x16['e' - rt::font_first_char];
    for (u32 row = 5; row < rt::font_height; ++row)
        EXPECT_EQ(glyph[row], e[row]) << "row " << row;
    EXPECT_NE(glyph[2] | glyph[3], 0);
    EXPECT_EQ(glyph[0] | glyph[1] | glyph[4], 0);
    // Ü: U with two dots in the rows above it; ï: i without its dot, two dots instead;
    // ç: c with the cedilla below.
    ASSERT_TRUE(rt::accented_glyph(0xDC, glyph));
    EXPECT_NE(glyph[1], 0);
    ASSERT_TRUE(rt::accented_glyph(0xEF, glyph));
    EXPECT_EQ(glyph[2], 0);
    EXPECT_EQ(glyph[3], 0x48);
    ASSERT_TRUE(rt::accented_glyph(0xE7, glyph));
    EXPECT_NE(glyph[12], 0);
    // Every accented letter differs from its plain letter and from each other accent.
    for (u32 c = 0xC0; c <= 0xFF; ++c)
        if (u8 a[16]; rt::accented_glyph(c, a))
            for (u32 d = c + 1; d <= 0xFF; ++d)
                if (u8 b[16]; rt::accented_glyph(d, b))
                    EXPECT_NE(std::vector<u8>(a, a + 16), std::vector<u8>(b, b + 16)) << std::hex << c << " and " << d;
    // Not accented letters: ß, ×, æ, ASCII, others.
    for (u32 c : { 0xDFu, 0xD7u, 0xE6u, u32('e'), 0x2019u })
        EXPECT_FALSE(rt::accented_glyph(c, glyph)) << std::hex << c;
    // On the screen: the composed glyph.
    Screen screen(160, 32);
    rt::FramebufferConsole console(screen.bytes(), screen.width, screen.height, screen.width * 4, bgrx);
    console.clear();
    console.write("\xc3\xa9");
    rt::accented_glyph(0xE9, glyph);
    u32 background = screen.at(0, 0);
    for (u32 y = 0; y < rt::font_height; ++y)
        for (u32 x = 0; x < rt::font_width; ++x)
            ASSERT_EQ(screen.at(x, y) != background, bool(glyph[y] & (0x80 >> x))) << "pixel " << x << "," << y;
}

TEST(FramebufferConsole, ScreensWiderThanTheGridGetTheFontInSquares)
{
    // 2560 / 8 = 320 columns, more than the grid's 240: 2x2, 160x45 characters.
    auto scale_for = [](u32 width, u32 height) { return rt::FramebufferConsole::grid_for(width, height).scale; };
    EXPECT_EQ(scale_for(2560, 1440), 2u);
    EXPECT_EQ(scale_for(1920, 1080), 1u);
    EXPECT_EQ(scale_for(3840, 2400), 2u);
    EXPECT_EQ(scale_for(7680, 4320), 4u);
    EXPECT_EQ(scale_for(1200, 1920), 2u); // portrait: 120 rows are too many
    auto grid = rt::FramebufferConsole::grid_for(2560, 1440);
    EXPECT_EQ(grid.columns, 160u);
    EXPECT_EQ(grid.rows, 45u);
    Screen screen(2000, 1300); // 250 columns: 2x2, 125x40 cells, 20 pixels below left over
    rt::FramebufferConsole console(screen.bytes(), screen.width, screen.height, screen.width * 4, bgrx);
    EXPECT_EQ(console.scale(), 2u);
    EXPECT_EQ(console.columns(), 125u);
    EXPECT_EQ(console.rows(), 40u);
    console.clear();
    EXPECT_EQ(screen.at(1999, 1299), screen.at(0, 0)); // the margin below
    console.write("\nAg");
    expect_glyph(screen, 0, 1, 'A', 2);
    expect_glyph(screen, 1, 1, 'g', 2);
}

// 24- and 16-bit modes (some VBE BIOS modes and GOPs): each pixel stored in its bytes, the
// palette packed into the mode's fields.
TEST(FramebufferConsole, TwentyFourAndSixteenBitPixelsAreStoredWhole)
{
    constexpr u32 width = 64, height = 32;
    std::vector<u8> bytes24(size_t(width) * height * 3, 0xAB);
    rt::FramebufferConsole rgb24(bytes24.data(), width, height, width * 3, { 3, 16, 8, 8, 8, 0, 8 });
    rgb24.clear();
    rgb24.write("T");
    // The top-left pixel is background: (0x10, 0x14, 0x20) stored as blue, green, red bytes.
    EXPECT_EQ(bytes24[0], 0x20);
    EXPECT_EQ(bytes24[1], 0x14);
    EXPECT_EQ(bytes24[2], 0x10);
    const u8* glyph = rt::font8x16['T' - rt::font_first_char];
    for (u32 y = 0; y < rt::font_height; ++y)
        for (u32 x = 0; x < rt::font_width; ++x) {
            const u8* pixel = &bytes24[(size_t(y) * width + x) * 3];
            bool ink = glyph[y] & (0x80 >> x);
            bool background = pixel[0] == 0x20 && pixel[1] == 0x14 && pixel[2] == 0x10;
            ASSERT_EQ(!background, ink) << "pixel " << x << "," << y;
        }
    EXPECT_EQ(bytes24[(size_t(height - 1) * width + width - 1) * 3], 0x20); // the last pixel, cleared too

    std::vector<u16> pixels16(size_t(width) * height, 0xABAB);
    rt::FramebufferConsole rgb565(reinterpret_cast<u8*>(pixels16.data()), width, height, width * 2, { 2, 11, 5, 5, 6, 0, 5 });
    rgb565.clear();
    // (0x10, 0x14, 0x20) in 5-6-5: red 0x10 >> 3 = 2, green 0x14 >> 2 = 5, blue 0x20 >> 3 = 4.
    EXPECT_EQ(pixels16[0], u16((2 << 11) | (5 << 5) | 4));
    EXPECT_EQ(pixels16.back(), pixels16[0]);
}
