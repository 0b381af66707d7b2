#include <rt/console.h>
#include <rt/keys.h>

namespace rt {

Console& Console::the()
{
    static Console console;
    return console;
}

void Console::attach_output(ConsoleSink& sink)
{
    if (m_sink_count < max_sinks)
        m_sinks[m_sink_count++] = &sink;
}

void Console::attach_input(InputSource& source)
{
    if (m_input_count < max_sinks)
        m_inputs[m_input_count++] = &source;
}

void Console::write(StringView text)
{
    for (size_t i = 0; i < m_sink_count; ++i)
        m_sinks[i]->write(text);
}

void Console::set_color(Color color)
{
    m_color = color;
    for (size_t i = 0; i < m_sink_count; ++i)
        m_sinks[i]->set_color(color);
}

void Console::set_word_wrap(bool word_wrap)
{
    for (size_t i = 0; i < m_sink_count; ++i)
        m_sinks[i]->set_word_wrap(word_wrap);
}

void Console::clear_screens()
{
    for (size_t i = 0; i < m_sink_count; ++i)
        if (m_sinks[i]->is_screen())
            m_sinks[i]->clear();
}

void Console::Audience::write(StringView text)
{
    for (size_t i = 0; i < m_console.m_sink_count; ++i)
        if (m_console.m_sinks[i]->is_screen() == m_screens)
            m_console.m_sinks[i]->write(text);
}

int Console::poll()
{
    if (m_type_ahead_count) {
        int key = m_type_ahead[m_type_ahead_head];
        m_type_ahead_head = (m_type_ahead_head + 1) % type_ahead_capacity;
        --m_type_ahead_count;
        return key;
    }
    size_t ended = 0;
    for (size_t i = 0; i < m_input_count; ++i) {
        int c = m_inputs[i]->poll();
        if (c >= 0)
            return c;
        ended += c == InputSource::end_of_input;
    }
    return m_input_count && ended == m_input_count ? InputSource::end_of_input : InputSource::nothing_waiting;
}

void Console::idle()
{
    for (size_t i = 0; i < m_input_count; ++i)
        m_inputs[i]->idle();
}

bool Console::interrupted()
{
    for (size_t i = 0; i < m_input_count; ++i) {
        // A few keys per source and look, and none once the keys kept fill their room:
        // those stay with their source (a pipe, a UART's queue) until a line is read.
        for (int read = 0; read < 8 && m_type_ahead_count < type_ahead_capacity; ++read) {
            int key = m_inputs[i]->poll();
            if (key < 0)
                break;
            if (key == key::interrupt) {
                m_type_ahead_count = 0; // what was typed before it is dropped with the story
                return true;
            }
            m_type_ahead[(m_type_ahead_head + m_type_ahead_count++) % type_ahead_capacity] = key;
        }
    }
    return false;
}

}
