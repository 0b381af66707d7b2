#pragma once
// The greedy stories260K story from "Once upon a time" (tests/golden, or $BAREFLOW_GOLDEN),
// and a sink that keeps what a generation writes, to compare with it.
#include <cstdlib>
#include <fstream>
#include <rt/format.h>
#include <sstream>
#include <string>

namespace testing_support {

class StringSink final : public rt::TextSink {
public:
    void write(rt::StringView text) override { value.append(text.data(), text.length()); }
    std::string value;
};

inline std::string golden_story()
{
    const char* dir = std::getenv("BAREFLOW_GOLDEN");
    std::string path = std::string(dir ? dir : "tests/golden") + "/stories260K_greedy_200.txt";
    std::ifstream file(path);
    if (!file) // no story can equal this, and the failing comparison says why
        return "(the golden story " + path + " cannot be read: run from the repository root or set BAREFLOW_GOLDEN)";
    std::stringstream s;
    s << file.rdbuf();
    return s.str();
}

}
