#pragma once

// Test-only scanners that look at sanitizer output WITHOUT using any sanitizer code: raw libzip
// and plain string searches for OOXML, raw qpdf object walks for PDF. A bug shared by the rebuild
// and its second check cannot hide from these.

#include <string>
#include <vector>

namespace lbg::sanitizer::testing {

// Findings in an OOXML package: forbidden part names (vbaProject, macrosheets, activeX,
// oleObject, embeddings, customUI, externalLinks), TargetMode="External" in any .rels, DDE-like
// field instructions, ddeLink, attachedTemplate. Empty when clean. Unreadable zip: {"unreadable"}.
std::vector<std::string> scanOoxml(const std::string& bytes);

// All part names of a ZIP (libzip), and one member's bytes.
std::vector<std::string> zipNames(const std::string& bytes);
std::string zipRead(const std::string& bytes, const std::string& name);

// Findings in a PDF: names of active constructs still present anywhere (/JS, /JavaScript, /AA,
// /Launch, /SubmitForm, /ImportData, /GoToR, /GoToE, /Rendition, /RichMedia, /Movie, /Sound,
// /3D, /FileAttachment, /EmbeddedFiles, /AF, /XFA, non-destination /OpenAction).
std::vector<std::string> scanPdf(const std::string& bytes);

std::string readFile(const std::string& path);

}  // namespace lbg::sanitizer::testing
