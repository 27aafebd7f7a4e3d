// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { describeError, showError } from "../src/runtime/errors.js";
import { CommandFailed } from "../src/runtime/protocol.js";
import { UnsafeMarkupError, el, isScriptUrl, labelChip, safeColour, setText } from "../src/runtime/text.js";

const XSS = "<img src=x onerror=alert(1)>";

describe("setText", () => {
  it("renders markup as text, creating no element", () => {
    const div = document.createElement("div");
    setText(div, XSS);
    expect(div.textContent).toBe(XSS);
    expect(div.children).toHaveLength(0);
    expect(div.querySelector("img")).toBeNull();
    expect(div.innerHTML).toBe("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("renders null and undefined as empty, numbers as strings", () => {
    const span = document.createElement("span");
    setText(span, null);
    expect(span.textContent).toBe("");
    setText(span, 3.5);
    expect(span.textContent).toBe("3.5");
  });
});

describe("el", () => {
  it("builds elements with class, text, title, attributes and children", () => {
    const node = el("a", { className: "x y", text: "go", title: "T", attrs: { href: "https://example.org/", "data-id": 3 } });
    expect(node.tagName).toBe("A");
    expect(node.className).toBe("x y");
    expect(node.textContent).toBe("go");
    expect(node.title).toBe("T");
    expect(node.getAttribute("href")).toBe("https://example.org/");
    expect(node.getAttribute("data-id")).toBe("3");

    const parent = el("div", {}, ["a ", el("b", { text: "bold" }), XSS]);
    expect(parent.childNodes).toHaveLength(3);
    expect(parent.textContent).toBe(`a bold${XSS}`);
    expect(parent.querySelector("img")).toBeNull();
  });

  it("treats label text as text, never HTML", () => {
    const node = el("span", { text: XSS, title: XSS });
    expect(node.children).toHaveLength(0);
    expect(node.textContent).toBe(XSS);
    expect(node.title).toBe(XSS);
  });

  it("refuses on* attributes in any case", () => {
    for (const name of ["onclick", "onerror", "ONLOAD", "onMouseOver"]) {
      expect(() => el("div", { attrs: { [name]: "alert(1)" } })).toThrow(UnsafeMarkupError);
    }
    expect(() => el("div", { attrs: { onclick: "x" } })).toThrow('event-handler attribute "onclick" is not allowed');
  });

  it("refuses script URLs, including obfuscated ones", () => {
    for (const url of ["javascript:alert(1)", "  JavaScript:alert(1)", "java\tscript:alert(1)", "\u0001javascript:x", "vbscript:x"]) {
      expect(isScriptUrl(url)).toBe(true);
      expect(() => el("a", { attrs: { href: url } })).toThrow(UnsafeMarkupError);
    }
    expect(() => el("img", { attrs: { src: "javascript:alert(1)" } })).toThrow(/script URL/);
    expect(isScriptUrl("https://example.org/javascript:")).toBe(false);
    expect(el("a", { attrs: { href: "/files/clip.mp4" } }).getAttribute("href")).toBe("/files/clip.mp4");
  });

  it("refuses srcdoc, odd attribute names and executable tags", () => {
    expect(() => el("div", { attrs: { srcdoc: "<b>" } })).toThrow(UnsafeMarkupError);
    expect(() => el("div", { attrs: { "a b": "1" } })).toThrow(UnsafeMarkupError);
    expect(() => el("div", { attrs: { '"><img': "1" } })).toThrow(UnsafeMarkupError);
    expect(() => el("script" as "div")).toThrow("<script> elements are not allowed");
    expect(() => el("iframe")).toThrow(UnsafeMarkupError);
  });

  it("handles boolean and null attributes", () => {
    const input = el("input", { attrs: { disabled: true, readonly: false, placeholder: null } });
    expect(input.getAttribute("disabled")).toBe("");
    expect(input.hasAttribute("readonly")).toBe(false);
    expect(input.hasAttribute("placeholder")).toBe(false);
  });
});

describe("labelChip", () => {
  it("shows the name as text with a valid colour", () => {
    const chip = labelChip("car", "#1F77B4");
    expect(chip.textContent).toBe("car");
    expect(chip.dataset.colour).toBe("#1f77b4");
    const swatch = chip.querySelector<HTMLElement>(".accord-chip-swatch");
    expect(swatch?.style.backgroundColor).toBe("rgb(31, 119, 180)");
  });

  it("renders a hostile label as text", () => {
    const chip = labelChip(XSS, "#ff0000");
    expect(chip.querySelector("img")).toBeNull();
    expect(chip.textContent).toBe(XSS);
  });

  it("falls back to grey for anything but #rrggbb", () => {
    for (const bad of ["red", "#fff", "#12345g", "#1234567", "url(javascript:x)", "#ff0000;background:url(x)", null, 42]) {
      const chip = labelChip("x", bad);
      expect(chip.dataset.colour).toBe("#808080");
      expect(chip.querySelector<HTMLElement>(".accord-chip-swatch")?.style.backgroundColor).toBe("rgb(128, 128, 128)");
    }
    expect(safeColour("#ABCDEF")).toBe("#abcdef");
    expect(safeColour("nope", "#000000")).toBe("#000000");
  });
});

describe("showError", () => {
  it("renders a dismissible banner with the error class and message as text", () => {
    const container = document.createElement("div");
    container.append(document.createElement("canvas"));
    const banner = showError(container, new TypeError(XSS));
    expect(container.firstElementChild).toBe(banner.element);
    expect(banner.element.getAttribute("role")).toBe("alert");
    expect(banner.element.querySelector(".accord-error-name")?.textContent).toBe("TypeError");
    expect(banner.element.querySelector(".accord-error-message")?.textContent).toBe(XSS);
    expect(banner.element.querySelector("img")).toBeNull();

    banner.element.querySelector<HTMLButtonElement>(".accord-error-close")?.click();
    expect(container.querySelector(".accord-error")).toBeNull();
    expect(container.children).toHaveLength(1);
  });

  it("shows the Python class and where for CommandFailed", () => {
    const container = document.createElement("div");
    const err = new CommandFailed(
      { error: "UnknownLabelError", message: "bad label", where: "annotation.label", expected: null },
      "set_label",
      "u1",
    );
    const banner = showError(container, err);
    expect(banner.element.querySelector(".accord-error-name")?.textContent).toBe("UnknownLabelError");
    expect(banner.element.querySelector(".accord-error-where")?.textContent).toBe("at annotation.label");
    banner.dismiss();
    expect(container.children).toHaveLength(0);
  });

  it("summarises non-Error values", () => {
    expect(describeError("plain")).toEqual({ name: "Error", message: "plain", where: null });
    expect(describeError({ code: 1 })).toEqual({ name: "Error", message: '{"code":1}', where: null });
    expect(describeError(undefined).message).toBe("undefined");
  });
});
