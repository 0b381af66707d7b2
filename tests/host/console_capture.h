#pragma once
// Captures what the code under test prints on the console (the singleton takes a few
// sinks and never lets go of one, so each test program attaches this once).
#include <rt/console.h>
#include <string>
#include <utility>

namespace testing_support {

class ConsoleCapture final : public rt::ConsoleSink {
public:
    static ConsoleCapture& the()
    {
        static ConsoleCapture capture;
        return capture;
    }
    void write(rt::StringView text) override { m_text.append(text.data(), text.length()); }
    std::string take() { return std::exchange(m_text, {}); }

private:
    ConsoleCapture() { rt::Console::the().attach_output(*this); }
    std::string m_text;
};

inline std::string str(rt::StringView v) { return std::string(v.data(), v.length()); }

}
