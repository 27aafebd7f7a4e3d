import { describe, expect, it } from "vitest";
import {
  COLORMAP_STOPS,
  type SpectrogramImage,
  colormap,
  colormapTable,
  frequencyLabels,
  imagePixels,
  imagePlacement,
  imageServes,
  imageSpan,
  luminance,
  parseSpectrogram,
  visibleRequest,
} from "../src/widgets/player/spectrogram.js";
import { createTimeView } from "../src/widgets/player/timeview.js";

function image(over: Partial<SpectrogramImage> = {}): SpectrogramImage {
  return { columns: 4, rows: 2, time0: 1.05, dt: 0.1, fmax: 8000, data: new Uint8Array(8), ...over };
}

describe("colour map", () => {
  it("runs from the first to the last stop and interpolates between them", () => {
    expect(colormap(0)).toEqual([...COLORMAP_STOPS[0]!]);
    expect(colormap(1)).toEqual([...COLORMAP_STOPS[COLORMAP_STOPS.length - 1]!]);
    expect(colormap(-3)).toEqual(colormap(0));
    expect(colormap(Number.NaN)).toEqual(colormap(0));
    const mid = colormap(1 / 16); // halfway between stops 0 and 1
    expect(mid).toEqual([70, 23, 103]);
  });

  it("is perceptually ordered: luminance rises with the level", () => {
    const table = colormapTable();
    const lum = (u: number): number => luminance([table[4 * u]!, table[4 * u + 1]!, table[4 * u + 2]!]);
    for (let u = 0; u < 256; u++) {
      if (u > 0) expect(lum(u)).toBeGreaterThanOrEqual(lum(u - 1)); // equal only where rounding ties
      if (u >= 8) expect(lum(u)).toBeGreaterThan(lum(u - 8));
      expect(table[4 * u + 3]).toBe(255);
    }
    expect(luminance(colormap(1)) - luminance(colormap(0))).toBeGreaterThan(150);
  });
});

describe("layout", () => {
  it("asks for the visible part of the stream in item time, one column per pixel", () => {
    const view = createTimeView({ duration: 20, width: 500, start: 0, secondsPerPixel: 0.02 }); // 0–10 s
    // the stream starts at item 2 s and lasts 5 s at rate 1.2 → item 2–8 s
    const req = visibleRequest(view, { offset: 2, rate: 1.2 }, 5)!;
    expect(req.start).toBeCloseTo(2);
    expect(req.end).toBeCloseTo(8);
    expect(req.columns).toBe(300);
    view.scrollTo(9);
    expect(visibleRequest(view, { offset: 2, rate: 1.2 }, 5)).toBeNull();
  });

  it("places an image in item time through the (previewed) clock", () => {
    const view = createTimeView({ duration: 20, width: 1000, start: 0, secondsPerPixel: 0.01 });
    const img = image(); // stream 1.0 .. 1.4 s
    expect(imageSpan(img)[0]).toBeCloseTo(1.0);
    expect(imageSpan(img)[1]).toBeCloseTo(1.4);
    const at = imagePlacement(img, view, { offset: 0, rate: 1 });
    expect(at.x).toBeCloseTo(100);
    expect(at.width).toBeCloseTo(40);
    const moved = imagePlacement(img, view, { offset: 0.5, rate: 2 }); // item 2.5 .. 3.3
    expect(moved.x).toBeCloseTo(250);
    expect(moved.width).toBeCloseTo(80);
  });

  it("serves a range it covers at no coarser than 1.5 pixels a column", () => {
    const img = image({ columns: 100, time0: 0.05, dt: 0.1 }); // 0 .. 10 s
    expect(imageServes(img, 2, 5, 0.1)).toBe(true);
    expect(imageServes(img, 2, 5, 0.05)).toBe(false); // zoomed in: too coarse
    expect(imageServes(img, 2, 12, 0.1)).toBe(false); // not covered
  });

  it("labels the frequency axis from the top", () => {
    expect(frequencyLabels(8000).map((l) => l.text)).toEqual(["8 kHz", "4 kHz", "0"]);
    expect(frequencyLabels(1500).map((l) => l.text)).toEqual(["1.5 kHz", "750 Hz", "0"]);
  });
});

describe("replies", () => {
  const header = { dtype: "uint8", columns: 3, rows: 2, time0: 0.5, dt: 1, fmax: 8000 };
  const buf = new DataView(new Uint8Array([0, 128, 255, 10, 20, 30]).buffer);

  it("parses a uint8 reply and refuses a mismatched buffer", () => {
    const img = parseSpectrogram(header, buf)!;
    expect(img.columns).toBe(3);
    expect([...img.data]).toEqual([0, 128, 255, 10, 20, 30]);
    expect(parseSpectrogram({ ...header, columns: 4 }, buf)).toBeNull();
    expect(parseSpectrogram({ ...header, dtype: "float32" }, buf)).toBeNull();
    expect(parseSpectrogram({ ...header, columns: 0 }, new DataView(new ArrayBuffer(0)))).toBeNull();
  });

  it("turns levels into pixels with the lowest band at the bottom", () => {
    const img = parseSpectrogram(header, buf)!;
    const table = colormapTable();
    const px = imagePixels(img, table);
    // bottom pixel row (y = 1) is band 0: levels 0, 128, 255
    expect([...px.slice(4 * 3, 4 * 3 + 3)]).toEqual(colormap(0));
    expect([...px.slice(4 * 5, 4 * 5 + 3)]).toEqual(colormap(1));
    // top row is band 1: levels 10, 20, 30
    expect([...px.slice(0, 3)]).toEqual(colormap(10 / 255));
  });
});
